"""The appliance's password rule (modelled: keep it here, in one place).

At least 8 characters with an upper-case letter, a lower-case letter, a digit
and a symbol, and not containing the user name. ``problems()`` returns what is
wrong in the appliance's words (empty list: acceptable).
"""
from __future__ import annotations

MIN_LENGTH = 8


def problems(password: str, username: str = "admin") -> list[str]:
    """Every way ``password`` breaks the rule, as short sentences."""
    out = []
    if len(password) < MIN_LENGTH:
        out.append(f"must be at least {MIN_LENGTH} characters")
    if not any(c.isupper() for c in password):
        out.append("must contain an upper-case letter")
    if not any(c.islower() for c in password):
        out.append("must contain a lower-case letter")
    if not any(c.isdigit() for c in password):
        out.append("must contain a digit")
    if not any(not c.isalnum() and not c.isspace() for c in password):
        out.append("must contain a symbol")
    if username and username.lower() in password.lower():
        out.append("must not contain the user name")
    return out
