"""Outside text made safe to show: what the appliance, the serial line or a
sheet sends is data, never terminal control, markup or emoji.

- ``shown(text)`` is for a terminal line, a console cell or label, and a
  transcript: every control character (C0, DEL, C1, ESC included) and every
  invisible formatting character (zero-width, bidirectional overrides) is
  written as a visible escape (``\\x1b``, ``\\u202e``), and a backslash as
  ``\\\\`` so an escape cannot be faked. A byte that was not UTF-8 (decoded
  with ``surrogateescape``, as the drivers decode the appliance's pages) is
  ``\\xNN``, the byte as sent. Nothing else changes: a MAC such as
  ``02:b5:ab:cd:00:02`` stays exactly that.
- ``shown_lines(text)`` keeps line breaks (a console screen, an error text) and
  escapes the rest.
- ``markdown(text)`` is ``shown`` plus backslash-escaped Markdown punctuation,
  for the report: no link, emphasis, table pipe or HTML from outside.

The console must still hand the result to Textual as plain text (a rich
``Text``), never as a markup string: ``[b]`` and ``:ab:`` are markup and an
emoji code there. JSON output keeps the real string.
"""
from __future__ import annotations

import re
import unicodedata

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\\": "\\\\"}
# anywhere: what makes emphasis, code, links, HTML or a table cell's end
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<|~])")
# only at the start of a line or list item, and only where it would make one:
# a numbered item ("1. ", so "169.254.1.3" stays as it reads), a heading or a
# bullet ("# ", "- ", "+ "), a quote, a rule or an image
_MD_LEADING = re.compile(r"^(\s*|\s*\d+)((?<=\d)[.)](?=\s|$)|(?<!\d)[#+\-](?=[\s#+\-]|$)"
                         r"|(?<!\d)[>=!])")


def _unsafe(ch: str) -> bool:
    if ch == "\\":
        return True
    code = ord(ch)
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return True
    return unicodedata.category(ch) in ("Cf", "Zl", "Zp", "Cs", "Co", "Cn")


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:    # a byte that was not UTF-8 (surrogateescape): as sent
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def shown(text) -> str:
    """``text`` (anything: it is ``str()``-ed) on one line, with every control
    and invisible character escaped. Never raises."""
    text = text if isinstance(text, str) else str(text)
    if text.isascii() and text.isprintable() and "\\" not in text:
        return text                    # the usual case: nothing to do
    return "".join(_escape(c) if _unsafe(c) else c for c in text)


def shown_lines(text) -> str:
    """Like ``shown``, but ``\\n`` (and ``\\r\\n``) stay line breaks and a tab
    stays a tab; a lone ``\\r`` is escaped (it would overwrite the line)."""
    text = text if isinstance(text, str) else str(text)
    lines = text.replace("\r\n", "\n").split("\n")
    return "\n".join("\t".join(shown(part) for part in line.split("\t")) for line in lines)


def markdown(text) -> str:
    """``shown(text)`` with Markdown punctuation escaped, for the report's
    text and table cells: no emphasis, code, link, HTML or table pipe, and
    no heading, quote or list at its start. Plain words, dots (an address
    reads as itself), dashes and parentheses inside stay as they are. Never
    raises."""
    return _MD_LEADING.sub(r"\1\\\2", _MD_SPECIAL.sub(r"\\\1", shown(text)), count=1)


_OUR_NIC = re.compile(r"nic[0-9]{1,2}")


def nic_name(name) -> str:
    """``NIC1`` for ``nic1``: bringup's own spelling of the appliance's NIC
    names; any other name exactly as the appliance sent it (no case change
    ever touches appliance text), for ``shown``/``markdown`` to escape."""
    name = name if isinstance(name, str) else str(name)
    return name.upper() if _OUR_NIC.fullmatch(name) else name


def nic_key(name) -> str:
    """``nic1`` for ``NIC1`` or ``Nic1`` (the spelling the sheet and the page
    map use, for matching); any other name exactly as the appliance sent it."""
    name = name if isinstance(name, str) else str(name)
    return name.lower() if _OUR_NIC.fullmatch(name.lower()) else name


def unsafe_in(text: str) -> list[str]:
    """The raw control characters left in ``text`` (ESC, C1, other C0 but
    newline and tab): what a test asserts is empty for stdout, reports and
    transcripts."""
    return [c for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]
