"""Writing a settings sheet (``bringup capture``): each table as its area
writes it, with comments naming the appliance page it comes from and the
limit of each list the appliance caps. ``hwprobe.settings.sheet.load_sheet``
accepts what is written here and returns an equal ``Settings``."""
from __future__ import annotations

from pathlib import Path

from hwprobe.settings import records
from hwprobe.settings.areas import AREAS, Areas
from hwprobe.fsutil import atomic_write
from hwprobe.appliance.state import Settings


def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_value(x) for x in value) + "]"
    if isinstance(value, str):
        return _toml_string(value)
    return str(value)


class Writer:
    """What a table's ``dump`` writes with: the sheet's ``format``, a table's
    header line, a key's lines, a list's limit."""

    def __init__(self, fmt: int, areas: Areas):
        self.format, self.areas = fmt, areas
        self._pages = {table.name: table.page for table in records.sheet_tables(areas)}

    def key(self, key: str, value, comment: str | None = None) -> list[str]:
        """``key = value`` (a long list one entry a line), with ``comment`` beside it."""
        line = f"{key} = {_value(value)}"
        if isinstance(value, list) and len(line) > 78:
            return [f"{key} = ["] + [f"    {_value(x)}," for x in value] + ["]"]
        return [f"{line:<32} # {comment}" if comment else line]

    def header(self, name: str, array: bool = False, one_per: str | None = None) -> str:
        """``[name]`` (``[[name]]`` for one per entry) and the page it comes from."""
        head = f"[[{name}]]" if array else f"[{name}]"
        rows = self.areas.of_table(name)
        page = rows[0].page if rows else self._pages[name]
        if not array:
            return f"{head:<32} # {page}"
        return f"{head:<32} # {page}, one per {one_per or rows[0].label.lower()}"

    def most(self, table: str, key: str) -> str | None:
        """A comment giving the limit of ``[table].key``, or None when it has none."""
        for area in self.areas.of_table(table):
            for limit in area.limits:
                if limit.key == key and limit.most is not None:
                    return f"at most {limit.most}"
        return None


def dump_sheet(settings: Settings, *, source_note: str | None = None,
               areas: Areas = AREAS) -> str:
    """Return ``settings`` as a sheet (format 1 when it holds them), with a
    comment on each table naming the appliance page it comes from.
    ``load_sheet`` accepts the text and returns an equal ``Settings`` (when
    the settings are themselves valid).

    Tables that are None in ``settings`` are left out; ``source_note`` becomes a
    comment at the top (for example where and when it was captured). No password
    is written: ``smtp.password_set`` only leaves a reminder comment.
    """
    fmt = sheet_format(settings, areas)
    out = [f"# Settings sheet for one B Series appliance (bringup format {fmt})."]
    out += [f"# {line}".rstrip() for line in (source_note or "").splitlines()]
    out += ["# No password belongs in this file: bringup asks for them, or reads",
            "# BRINGUP_PASSWORD / BRINGUP_NEW_PASSWORD / BRINGUP_SMTP_PASSWORD.",
            f"format = {fmt}"]
    writer = Writer(fmt, areas)
    for table in records.sheet_tables(areas):
        out += table.dump(settings, writer)
    return "\n".join(out) + "\n"


def sheet_format(settings: Settings, areas: Areas = AREAS) -> int:
    """1 when format 1 holds ``settings``; 2 when a table needs the newer
    format (per-server syslog settings, syslog over TLS, e-mail "ssl")."""
    return max(table.format(settings) for table in records.sheet_tables(areas))


def write_sheet(settings: Settings, path, *, source_note: str | None = None) -> Path:
    """Write ``settings`` as a sheet at ``path`` atomically (a reader sees the
    old file or the new one, never half). Returns the path. Raises OSError when
    the directory cannot be written."""
    return atomic_write(path, dump_sheet(settings, source_note=source_note), mode=0o644)
