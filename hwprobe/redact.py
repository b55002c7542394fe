"""The secrets this process knows, so that text written to disk can be masked.

``remember(*values)`` adds passwords as they become known (the session's
``keep_secret`` calls it); ``masked(text, secrets)`` is the masking rule;
``mask(text)`` returns ``text`` with each of them
replaced by ``***``. The run log passes every line through ``mask``: a
password that slips into an error message or a driver's debug line is never
written. The factory password is public and is not masked. Never raises.
"""
from __future__ import annotations

import threading

from hwprobe.constants import FACTORY_PASSWORD

MASK = "***"
_known: set[str] = set()
_lock = threading.Lock()


def remember(*values: str | None) -> None:
    """Add ``values`` (None and empty strings are ignored) to the known secrets."""
    with _lock:
        _known.update(v for v in values if v and v != FACTORY_PASSWORD)


def masked(text: str, secrets, replacement: str = MASK) -> str:
    """``text`` with each of ``secrets`` (empty ones ignored) replaced by
    ``replacement``, longest first, so a password that contains another is
    masked whole. The one masking rule of the drivers, the serial pane and the
    run log."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, replacement)
    return text


def mask(text: str) -> str:
    """``text`` with every known secret replaced by ``***``."""
    with _lock:
        known = list(_known)
    return masked(text, known)
