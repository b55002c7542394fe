"""Checks a settings sheet passes before anyone parses it.

A sheet is typed by hand, late, and may be any file at all: these checks make
sure that whatever it holds ends as ``FILE:LINE: ...`` problems, never as a
hang (a FIFO), a memory blow-up (``/dev/zero``), a RecursionError (nested
arrays) or a hidden character carried to the appliance inside a value.

- ``read_sheet_bytes`` opens without blocking, refuses anything but a regular
  file before reading a byte, and reads at most ``MAX_SHEET_BYTES``.
- ``text_problems`` finds control and invisible characters (NUL, zero-width,
  bidirectional overrides) and nesting deeper than ``MAX_DEPTH``, from the text.
- ``too_deep`` / ``value_problems`` check the parsed document the same way
  (a ``"\\n"`` escape in a TOML string is only visible after parsing).
"""
from __future__ import annotations

import os
import stat
import unicodedata

from hwprobe.errors import SheetInvalid

MAX_SHEET_BYTES = 256 * 1024     # a full sheet is about 2 KB
MAX_DEPTH = 8                    # a sheet nests two levels ([[ip]] -> key); tomllib recurses per level
_ALLOWED_CONTROLS = "\t\n\r"


def read_sheet_bytes(path, name: str) -> bytes:
    """The bytes of the sheet at ``path``. Raises ``SheetInvalid`` (one problem,
    naming ``name``) for a missing or unreadable file, a directory, FIFO, socket
    or device (refused without reading), or a file over ``MAX_SHEET_BYTES``."""
    try:
        # O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except IsADirectoryError:
        raise SheetInvalid([f"{name}: is a directory, not a settings sheet"]) from None
    except OSError as e:
        raise SheetInvalid([f"{name}: cannot read the sheet: {e.strerror or e}"]) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            what = ("a directory" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
                    else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                    else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
            raise SheetInvalid([f"{name}: is {what}, not a settings sheet; give the sheet's file"])
        chunks, size = [], 0
        while size <= MAX_SHEET_BYTES:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_SHEET_BYTES:
            raise SheetInvalid([f"{name}: is larger than {MAX_SHEET_BYTES // 1024} KB; a settings "
                                f"sheet is a few KB: is this the right file?"])
        return b"".join(chunks)
    except OSError as e:
        raise SheetInvalid([f"{name}: cannot read the sheet: {e.strerror or e}"]) from None
    finally:
        os.close(fd)


def hidden(ch: str) -> bool:
    """True for a character that does not show as itself: C0/C1 controls, DEL,
    format characters (zero-width, bidirectional overrides, soft hyphen, BOM),
    line/paragraph separators, and unassigned or private-use code points."""
    if ch in _ALLOWED_CONTROLS:
        return False
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Co", "Cn", "Cs")


def describe(ch: str) -> str:
    """``U+200B (ZERO WIDTH SPACE)``: a hidden character named, never shown."""
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" ({name})" if name else "")


def text_problems(text: str, name: str) -> list[str]:
    """Problems found in the raw text: hidden characters (one per line at most)
    and nesting deeper than ``MAX_DEPTH``. An empty list when there are none."""
    problems = []
    for number, line in enumerate(text.split("\n"), 1):
        for column, ch in enumerate(line, 1):
            if hidden(ch) and not (ch == "\r" and column == len(line)):
                problems.append(f"{name}:{number}: hidden character {describe(ch)} at column "
                                f"{column}; delete it and retype the value")
                break
    if problems:
        return problems
    line = _deep_line(text)
    if line is not None:
        problems.append(f"{name}:{line}: syntax: arrays or inline tables nested more than "
                        f"{MAX_DEPTH} levels deep")
    return problems


def _deep_line(text: str) -> int | None:
    """The line where ``[``/``{`` nesting (outside strings and comments) first
    passes ``MAX_DEPTH``, or None. Header brackets count too, harmlessly."""
    depth, line, i, n = 0, 1, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
        elif ch == "#":
            while i < n and text[i] != "\n":
                i += 1
            continue
        elif ch in "\"'":
            delim = text[i:i + 3] if text.startswith(ch * 3, i) else ch
            i += len(delim)
            while i < n and not text.startswith(delim, i):
                if text[i] == "\\" and ch == '"':
                    i += 1
                elif text[i] == "\n":
                    if len(delim) == 1:
                        break          # an unclosed string: tomllib will say so
                    line += 1
                i += 1
            i += len(delim)
            continue
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line
        elif ch in "]}":
            depth = max(0, depth - 1)
        i += 1
    return None


def too_deep(doc: dict) -> tuple | None:
    """The path of the first value nested deeper than ``MAX_DEPTH`` (dotted
    keys such as ``a.b.c.d...`` nest without brackets), or None. Iterative, so
    it cannot itself run out of stack."""
    todo = [((), doc)]
    while todo:
        path, node = todo.pop()
        if len(path) > MAX_DEPTH:
            return path
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            if isinstance(value, (dict, list)):
                todo.append((path + (key,), value))
    return None


def value_problems(doc: dict) -> list[tuple[tuple, str]]:
    """``(path, message)`` for every key or string value holding a hidden
    character (a ``\\n`` or ``\\u200b`` escape, say). Call after ``too_deep``."""
    found = []
    todo = [((), doc)]
    while todo:
        path, node = todo.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            here = path + (key,)
            bad = next((c for c in key if hidden(c) or c in _ALLOWED_CONTROLS), None) \
                if isinstance(key, str) else None
            if bad is None and isinstance(value, str):
                bad = next((c for c in value if hidden(c) or c in _ALLOWED_CONTROLS), None)
                if bad is not None:
                    found.append((here, f"holds the hidden character {describe(bad)}; "
                                        f"remove it (a value is one line of visible text)"))
                    continue
            elif bad is not None:
                found.append((here, f"the key holds the hidden character {describe(bad)}"))
                continue
            if isinstance(value, (dict, list)):
                todo.append((here, value))
    return found
