"""The simulator's JSON files (an appliance's state.json, its /login state,
a lab's lab.json), replaced whole so that a reader, or a simulator started
again after a crash, finds the old file or the new one and never half of one."""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path


def save_json(path: str | os.PathLike, data, *, indent: int | None = None) -> None:
    """Write ``data`` as JSON to ``path`` (mode 0644): a temporary file in the
    same folder, flushed to disk, then renamed over ``path``, and the folder
    flushed too. Creates the folder when missing. Raises OSError (disk full,
    no permission) with ``path`` left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=indent)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
