"""One bringup per laptop port: a lock across processes, users and state dirs.

The lock is an abstract Unix socket named after the port
(``@bringup-port/<netns inode>/<iface>``) that the holder binds and listens on.
Why this and not a lock file: the abstract socket namespace belongs to the
network namespace, so it is shared by every process that can touch the port
(root under sudo and a setcap user alike, whatever their BRINGUP_STATE_DIR);
binding is atomic, so of two runs started in the same millisecond exactly one
wins; and the kernel drops it when the holder dies, even by SIGKILL, so a
crash never leaves a stale lock behind. The loser learns the holder's pid
from the socket itself (SO_PEERCRED on a connect), without the holder's help.

``PortLock(iface).acquire()`` raises PortBusy (naming the pid) when another
process holds the port; ``release()`` is harmless to repeat.
"""
from __future__ import annotations

import errno
import socket
import struct

from hwprobe.errors import PortBusy


def _name(iface: str, netns: int) -> bytes:
    return f"\0bringup-port/{netns}/{iface}".encode()


def holder_pid(iface: str, netns: int) -> int | None:
    """The pid of the process holding ``iface``'s lock, or None when nobody
    does (or it cannot be told). Never raises."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.setblocking(False)
        probe.connect(_name(iface, netns))
        creds = probe.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        pid, _uid, _gid = struct.unpack("3i", creds)
        return pid or None
    except OSError:
        return None
    finally:
        probe.close()


class PortLock:
    """The lock on one laptop port of one network namespace."""

    def __init__(self, iface: str, netns: int):
        self.iface, self.netns = iface, netns
        self._sock: socket.socket | None = None

    @property
    def held(self) -> bool:
        return self._sock is not None

    def acquire(self) -> None:
        """Take the lock; raises PortBusy naming the holder's pid."""
        if self._sock is not None:
            return
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)   # close-on-exec by default
        try:
            sock.bind(_name(self.iface, self.netns))
            sock.listen(64)
        except OSError as exc:
            sock.close()
            if exc.errno != errno.EADDRINUSE:
                raise PortBusy(f"cannot lock {self.iface} for this run ({exc}); nothing "
                               f"was changed on it") from exc
            pid = holder_pid(self.iface, self.netns)
            who = f"pid {pid}" if pid else "another process"
            raise PortBusy(f"{self.iface} is in use by another bringup ({who}); nothing was "
                           f"changed on it. Quit that one first: it gives the port back "
                           f"itself.", pid=pid) from None
        self._sock = sock

    def release(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
