"""What the technician typed on a step, kept in memory while they step back
and forth (Esc goes back a step; coming forward again shows the same values).

Drafts live on the console's session (``Session.drafts``), in memory only:
they may hold a password typed on the Login step, so they are never written
anywhere. Called from handlers on the console's thread only.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..session import Session


def keep(session: Session, step: str, value: Any) -> None:
    """Remember ``value`` as ``step``'s draft (replacing the previous one)."""
    session.drafts[step] = value


def recall(session: Session, step: str, default: Any = None) -> Any:
    """``step``'s draft, or ``default`` when nothing was typed there yet."""
    return session.drafts.get(step, default)


def forget(session: Session, step: str) -> None:
    """Drop ``step``'s draft (say, once its values have been used)."""
    session.drafts.pop(step, None)
