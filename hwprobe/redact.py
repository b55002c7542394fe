"""The secrets this process knows, so that text written to disk can be masked.

``remember(*values)`` adds passwords as they become known (the session's
``keep_secret`` calls it); ``mask(text)`` returns ``text`` with each of them
replaced by ``***``. The run log passes every line through ``mask``: a
password that slips into an error message or a driver's debug line is never
written. The factory password is public and is not masked. Never raises.
"""
from __future__ import annotations

import threading

from .constants import FACTORY_PASSWORD

MASK = "***"
_known: set[str] = set()
_lock = threading.Lock()


def remember(*values: str | None) -> None:
    """Add ``values`` (None and empty strings are ignored) to the known secrets."""
    with _lock:
        _known.update(v for v in values if v and v != FACTORY_PASSWORD)


def mask(text: str) -> str:
    """``text`` with every known secret replaced by ``***`` (longest first, so a
    password that contains another is masked whole)."""
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    return text
