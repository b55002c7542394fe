"""What the technician typed on a step, kept in memory while they step back
and forth (Esc goes back a step; coming forward again shows the same values).

Drafts live on the console's session object, in memory only: they may hold a
password typed on the Login step, so they are never written anywhere.
"""
from __future__ import annotations

from typing import Any


def drafts(session: Any) -> dict[str, Any]:
    """The session's drafts (step key -> whatever that step keeps), created empty."""
    store = getattr(session, "drafts", None)
    if store is None:
        store = {}
        session.drafts = store
    return store


def keep(session: Any, step: str, value: Any) -> None:
    """Remember ``value`` as ``step``'s draft (replacing the previous one)."""
    drafts(session)[step] = value


def recall(session: Any, step: str, default: Any = None) -> Any:
    """``step``'s draft, or ``default`` when nothing was typed there yet."""
    return drafts(session).get(step, default)


def forget(session: Any, step: str) -> None:
    """Drop ``step``'s draft (say, once its values have been used)."""
    drafts(session).pop(step, None)
