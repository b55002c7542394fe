"""The appliance's password rule as bringup knows it (modelled: every face of
bringup takes it from here; the simulator keeps its own, so the lab catches
a mistake here).

At least 8 characters with an upper-case letter, a lower-case letter, a digit
and a symbol, and not containing the user name. ``problems()`` returns what is
wrong in the appliance's words (empty list: acceptable); ``checks()`` says,
part by part, which parts a password meets (the console shows it as typed).
"""
from __future__ import annotations

from typing import Callable

MIN_LENGTH = 8

#: (short name, the appliance's words when it is broken, the test) for each part
RULES: tuple[tuple[str, str, Callable[[str, str], bool]], ...] = (
    (f"{MIN_LENGTH}+ characters", f"must be at least {MIN_LENGTH} characters",
     lambda p, u: len(p) >= MIN_LENGTH),
    ("upper case", "must contain an upper-case letter", lambda p, u: any(c.isupper() for c in p)),
    ("lower case", "must contain a lower-case letter", lambda p, u: any(c.islower() for c in p)),
    ("a digit", "must contain a digit", lambda p, u: any(c.isdigit() for c in p)),
    ("a symbol", "must contain a symbol",
     lambda p, u: any(not c.isalnum() and not c.isspace() for c in p)),
    ("not the user name", "must not contain the user name",
     lambda p, u: not (u and u.lower() in p.lower())),
)


def checks(password: str, username: str = "admin") -> list[tuple[str, bool]]:
    """Each part of the rule by its short name, and whether ``password`` meets it."""
    return [(name, test(password, username)) for name, _, test in RULES]


def problems(password: str, username: str = "admin") -> list[str]:
    """Every way ``password`` breaks the rule, as short sentences."""
    return [words for _, words, test in RULES if not test(password, username)]
