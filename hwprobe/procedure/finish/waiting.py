"""Waiting through a restart: an install of the site software stops every
session and takes 15 to 60 minutes on a real box; /login restarts after a
restore. bringup asks again every few seconds, tells the face how long it
has waited against the deadline, and gives up at the deadline with a
sentence that says the run can be resumed.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from hwprobe.errors import BringupError

# "Session" in the annotations is hwprobe.procedure.session.BringupSession,
# not imported: the session runs the finish, never the other way round

EVERY = 2.0


class RestartTimeout(BringupError):
    """The appliance did not come back within the deadline."""


def appliance_answers(session: "Session") -> bool:
    """The appliance's HTTPS answers a handshake now (through the laptop
    port when it is held): False while it restarts."""
    from hwprobe.appliance.pinning import fetch_fingerprint
    from hwprobe.errors import Unreachable

    device = session.target.iface if session.takeover is not None else None
    try:
        fetch_fingerprint(str(session.target.address), session.target.https_port, 2.0, device)
    except Unreachable:
        return False
    return True


def wait_until(check: Callable[[], bool], *, since: float, deadline: float, what: str,
               on_tick: Callable[[float, float], None] | None = None, every: float = EVERY,
               cancel: threading.Event | None = None) -> float:
    """Call ``check()`` every ``every`` seconds until it is True; returns the
    seconds waited since ``since`` (a wall-clock time: an earlier run's start
    counts). ``on_tick(waited, deadline)`` after each try. RestartTimeout,
    naming ``what``, once ``deadline`` seconds have passed since ``since``;
    BringupError when ``cancel`` is set."""
    while True:
        if check():
            return time.time() - since
        waited = time.time() - since
        if on_tick is not None:
            on_tick(waited, deadline)
        if waited >= deadline:
            raise RestartTimeout(
                f"still waiting for {what} after {waited / 60:.0f} min (the deadline, "
                f"--restart-deadline, is {deadline / 60:.0f} min): it may still be at work. "
                "Run bringup again later: it goes on from here and sends nothing twice")
        if cancel is not None and cancel.wait(min(every, max(0.1, deadline - waited))):
            raise BringupError(f"stopped while waiting for {what}: run bringup again to go "
                               "on from here (nothing is sent twice)")
        if cancel is None:
            time.sleep(min(every, max(0.1, deadline - waited)))
