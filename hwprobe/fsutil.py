"""Writing files so that a crash never leaves half of one, and reading the
state files back so that a damaged one is named, never set aside silently.

Every file bringup writes is a regular file, or nothing: ``atomic_write``
never replaces a device, a FIFO, a socket, a folder or a symbolic link, and
``check_output`` / ``check_output_folder`` tell a command's ``--out`` that
before the first packet is sent."""
from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path

from hwprobe.errors import BadInput, StateFileDamaged

# what a path holds, for a refusal: lstat's file type -> words
_KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a folder"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"))


def not_a_regular_file(path: Path) -> str | None:
    """What ``path`` is when it exists and is not a regular file (a symbolic
    link counts as one, wherever it points), else None. Never follows a
    link; never raises."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    return next((words for test, words in _KINDS if test(mode)), "not a regular file")


def check_output(path: str | Path, *, overwrite: bool = False, option: str = "--out",
                 nothing: str = "nothing was sent to the appliance") -> Path:
    """Before anything is read or sent: ``path`` may receive a file bringup
    writes (beside it, then renamed onto it). It must be missing, or a
    regular file when ``overwrite`` (--force) is given; its folder must exist
    and take a new file. Returns the path. Raises BadInput naming the option,
    the path and why (a device, FIFO, socket, symbolic link or folder is
    refused, --force or not); ``nothing`` ends the sentence."""
    path = Path(path)
    kind = not_a_regular_file(path)
    if kind == "a folder":
        raise BadInput(f"{option} {path}: is a folder; give a file's name in it ({nothing})")
    if kind is not None:
        raise BadInput(f"{option} {path}: is {kind}; bringup writes only regular files, "
                       f"--force or not: give a new file's name ({nothing})")
    if os.path.lexists(path) and not overwrite:
        raise BadInput(f"{option} {path}: the file exists (add --force to overwrite)")
    folder = path.parent
    if not folder.is_dir():
        raise BadInput(f"{option} {path}: folder {folder} does not exist ({nothing})")
    _try_writing_in(folder, f"{option} {path}: cannot write in {folder}", nothing)
    return path


def check_output_folder(folder: str | Path, *, option: str = "--out",
                        nothing: str = "nothing was sent to the appliance") -> Path:
    """Before anything is read or sent: ``folder`` exists, is a folder and
    takes a new file (``/proc`` does not, even for root). Returns it. Raises
    BadInput naming the option, the folder and why."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInput(f"{option} {folder}: no such folder ({nothing})")
    _try_writing_in(folder, f"{option} {folder}: cannot write in it", nothing)
    return folder


def _try_writing_in(folder: Path, refusal: str, nothing: str) -> None:
    """Create a 4 KiB file in ``folder``, flushed to its disk, and remove it:
    a read-only or full file system says so now, not after the appliance
    was read. Raises BadInput(``refusal (why); nothing``)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".bringup-", suffix=".check", dir=folder)
    except OSError as exc:
        raise BadInput(f"{refusal} ({exc.strerror or exc}); {nothing}") from None
    try:
        os.write(fd, b"#" * 4096)
        os.fsync(fd)
    except OSError as exc:
        raise BadInput(f"{refusal} ({exc.strerror or exc}); {nothing}") from None
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(probe)


def atomic_write(path: str | Path, text: str | bytes, *, mode: int | None = None) -> Path:
    """Write ``text`` (or bytes) to ``path`` so a reader sees the old file or
    the new one, never half: a temporary file beside it, fsync, rename, fsync
    of the folder. Only a missing path or a regular file is replaced.

    ``mode`` sets the file's permissions (None keeps the temporary file's 0600).
    Creates the folder when missing. Returns the path; raises OSError (with
    ``path`` as its filename: a full disk says which file it stopped), and
    BadInput when ``path`` is a device, FIFO, socket, folder or symbolic link."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # text: UTF-8, and a byte from outside that was not UTF-8 written as it came
        with os.fdopen(fd, "wb" if isinstance(text, bytes) else "w",
                       **({} if isinstance(text, bytes) else
                          {"encoding": "utf-8", "errors": "surrogateescape"})) as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        kind = not_a_regular_file(path)
        if kind is not None:        # the last guard: never rename over one of those
            raise BadInput(f"{path}: is {kind}; bringup writes only regular files")
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
