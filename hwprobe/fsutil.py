"""Writing files so that a crash never leaves half of one."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def atomic_write(path: str | Path, text: str, *, mode: int | None = None) -> Path:
    """Write ``text`` to ``path`` so a reader sees the old file or the new one,
    never half: a temporary file beside it, fsync, rename, fsync of the folder.

    ``mode`` sets the file's permissions (None keeps the temporary file's 0600).
    Creates the folder when missing. Returns the path; raises OSError (with
    ``path`` as its filename: a full disk says which file it stopped)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not exc.filename:   # a full disk: say which file
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return path
