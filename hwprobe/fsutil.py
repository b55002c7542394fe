"""Writing files so that a crash never leaves half of one, and reading the
state files back so that a damaged one is named, never set aside silently."""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from hwprobe.errors import StateFileDamaged


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


def read_state_file(path: Path, what: str, kind: type, losing: str):
    """The JSON in ``path`` (a ``kind``: dict or list), or None when there is
    no such file. Raises StateFileDamaged naming the file, what is wrong and
    how to move it aside (``losing``: what bringup then forgets)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or "not UTF-8 text"
    else:
        try:
            data = json.loads(text)
        except ValueError as exc:
            why = f"not JSON: {exc}" if text.strip() else "empty (cut short?)"
        else:
            if isinstance(data, kind):
                return data
            why = f"holds {json.dumps(data)[:40]} where a JSON {'object' if kind is dict else 'list'} belongs"
    raise StateFileDamaged(
        f"the {what} {path} is damaged ({why}). Move it aside and run again: "
        f"`mv {path} {path}.bad`; bringup then {losing}. Nothing was changed.")
