"""What a B Series appliance is when it leaves the factory, and its password
rule: the simulator's own copy, written from DESIGN.md's table, never taken
from bringup.

The lab is bringup's peer. If it checked passwords with bringup's own rule,
or started with bringup's idea of the factory password, a mistake in bringup
would be made twice and never seen; written here, a bringup that accepts a
password the appliance refuses is refused by the lab, as it would be in the
field (tests/test_sim_independent.py). Only the page map (web paths, field
names, limits, the console's words) is shared: it is the contract.

The rule (modelled, DESIGN.md): at least 8 characters, with upper case, lower
case, a digit and a symbol, not containing the user name. Lockout (modelled):
5 failed logins lock the account for 5 minutes; ``serve`` takes other numbers.
"""
from __future__ import annotations

NICS = ("nic1", "nic2")
FACTORY_ADDRESSES = ("169.254.1.1", "169.254.1.2", "169.254.1.3", "169.254.1.4")
FACTORY_USER = "admin"
FACTORY_PASSWORD = "password"
# a new site's first /login account, once the site software is installed (modelled)
LOGIN_FIRST_USER = "admin"
LOGIN_FIRST_PASSWORD = "password"
LOCKOUT_ATTEMPTS = 5
LOCKOUT_SECONDS = 5 * 60
PASSWORD_MIN_LENGTH = 8


def password_problems(password: str, username: str) -> list[str]:
    """Every way ``password`` breaks the appliance's rule for ``username``, in
    the words its password page shows; an empty list when it is acceptable."""
    found = []
    if len(password) < PASSWORD_MIN_LENGTH:
        found.append(f"must be at least {PASSWORD_MIN_LENGTH} characters")
    if not any(c.isupper() for c in password):
        found.append("must contain an upper-case letter")
    if not any(c.islower() for c in password):
        found.append("must contain a lower-case letter")
    if not any(c.isdigit() for c in password):
        found.append("must contain a digit")
    # a symbol: any character but a letter, a digit or white space
    if all(c.isalnum() or c.isspace() for c in password):
        found.append("must contain a symbol")
    if username and username.lower() in password.lower():
        found.append("must not contain the user name")
    return found
