"""The settings sheet: what was saved from the old appliance (DESIGN.md, format 1).

``load_sheet`` reads and checks a sheet and returns a ``Settings``; it contacts
nothing. A bad sheet raises ``SheetInvalid`` listing every problem at once, one
line each, sorted by line::

    FILE:LINE: [table].key: what is wrong

- ``[ip#2].netmask`` names a key of the second ``[[ip]]`` (counted from 1 in
  the order they appear); ``[ip#2]`` alone, or ``[network]``, names a whole
  table (a missing key, or netmask and prefix both missing).
- ``format`` (no brackets) is the top-level key; ``[ntpp]`` or ``[[ip]]`` names
  a table that is unknown, missing, or written with the wrong brackets.
- ``FILE:LINE: syntax: ...`` is a TOML syntax error; it is then the only problem.
- LINE is the line of the key; for a missing key, the line of its table header;
  for a missing table or ``format``, line 1.

The tables, their keys and their checks are the settings areas' (each area
module's ``TABLE``, hwprobe/settings/areas/) and those of the few tables that
are no area (``records``); this module reads any of them the same way, and
names none. Required: ``format = 1`` and the tables an area says a sheet must
have (``[[ip]]`` and ``[network]``); a table that is present needs all its
required keys (``Settings`` holds None for an absent optional table). Each
area checks what no single key shows (a gateway in no configured subnet, a
key another rules out) only when the keys it builds on are good themselves,
so the fix there comes first. A key that looks like a secret is refused
without echoing its value. Lists the appliance holds only so many of are
checked against the page map's limits, so a sheet the appliance would refuse
half-way through a run is refused when it is loaded.

``hwprobe.settings.sheetwrite`` writes a sheet back (``capture``);
``load_sheet`` accepts what it writes and returns an equal ``Settings``.
``summarize`` gives short lines for a screen.
"""
from __future__ import annotations

import re
import tomllib
from typing import Mapping

from hwprobe.settings import records, sheetcheck, validate as v
from hwprobe.settings.area import Key
from hwprobe.settings.areas import AREAS, Areas
from hwprobe.constants import ENV_PASSWORD, ENV_SMTP_PASSWORD
from hwprobe.errors import SheetInvalid
from hwprobe.appliance.state import Settings

FORMAT = 1          # the format a sheet is written in when format 1 holds its settings
FORMATS = (1, 2)    # format 2: format 1 plus [[syslog]] per server, e-mail "ssl"
_SECRET = re.compile(r"pass|secret|token|pwd|credential|api_?key", re.I)
_TABLE_NAMES = {table.name for table in records.sheet_tables(AREAS)}


def label(path: tuple) -> str:
    """Name a place in a sheet as problems show it: ``("ip", 1, "netmask")`` ->
    ``[ip#2].netmask``, ``("network",)`` -> ``[network]``, ``("format",)`` -> ``format``."""
    if len(path) == 1 and path[0] not in _TABLE_NAMES:
        return str(path[0])
    head = f"[{path[0]}#{path[1] + 1}]" if len(path) > 1 and isinstance(path[1], int) else f"[{path[0]}]"
    rest = [str(p) for p in path[1:] if not isinstance(p, int)]
    return head + "".join("." + p for p in rest)


class Problems:
    """Every problem of one sheet (``name``), each at its line: what the
    tables' own checks add to."""

    def __init__(self, name: str, locator: v.Locator):
        self.name, self.locator, self.items = name, locator, []

    def add(self, path: tuple, message: str, line: int | None = None, where: str | None = None) -> None:
        """A problem at ``path`` (its line unless ``line``; named as ``label``
        names it unless ``where``)."""
        line = line if line is not None else self.locator.line(path)
        where = where or label(path)
        self.items.append((line, len(self.items), f"{self.name}:{line}: {where}: {message}"))

    def line(self, path: tuple) -> int:
        """The line of ``path`` in the sheet (of its table when the key is not there)."""
        return self.locator.line(path)

    def repeated(self, table: str, key: str, entries: list[dict]) -> None:
        """A problem for each of ``entries`` (a [[table]]'s, checked) whose
        ``key`` an earlier one already holds: "... is already [ip#1].address"."""
        first: dict = {}
        for n, entry in enumerate(entries):
            if key in entry:
                if entry[key] in first:
                    self.add((table, n, key), f"{entry[key]} is already "
                                              f"{label((table, first[entry[key]], key))}")
                first.setdefault(entry[key], n)

    def lines(self) -> list[str]:
        return [text for _, _, text in sorted(self.items)]


def _secret_message(path: tuple) -> str:
    if any("smtp" in str(p).lower() for p in path):
        return f"passwords do not belong in a sheet: use {ENV_SMTP_PASSWORD}"
    return (f"passwords do not belong in a sheet: use {ENV_PASSWORD} for the appliance "
            f"or {ENV_SMTP_PASSWORD} for SMTP")


def _find_secrets(node, path: tuple, problems: Problems, found: set) -> None:
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        here = path + (key,)
        if isinstance(key, str) and _SECRET.search(key):
            problems.add(here, _secret_message(here))
            found.add(here)
        elif isinstance(value, dict) or (isinstance(value, list) and value
                                          and all(isinstance(x, dict) for x in value)):
            _find_secrets(value, here, problems, found)


def _check_table(path: tuple, table: dict, problems: Problems, secrets: set,
                 keys: Mapping[str, Key]) -> dict:
    """Check one table's keys; return the keys whose values are good."""
    good = {}
    for key, value in table.items():
        if path + (key,) in secrets:
            continue
        if key not in keys:
            problems.add(path + (key,), "unknown key; " + v.did_you_mean(key, keys))
    for key, spec in keys.items():
        here = path + (key,)
        if key not in table:
            if spec.required:
                problems.add(here, "missing", line=problems.line(path))
            continue
        value = table[key]
        problem = v.type_problem(key, spec.kind, value)
        if problem is None and spec.check is not None:
            items = value if spec.kind == "list" else [value]
            problem = next((p for p in map(spec.check, items) if p), None)
            if problem is None and spec.kind == "list":
                twice = sorted({x for x in value if value.count(x) > 1})
                if twice:
                    problem = f"{v.quote(twice[0])} is listed twice"
        if problem:
            problems.add(here, problem)
        else:
            good[key] = value
    return good


def _entries(value) -> bool:
    """Is ``value`` a [[table]] written once per entry (a list of tables)?"""
    return isinstance(value, list) and bool(value) and all(isinstance(x, dict) for x in value)


def load_sheet(path) -> Settings:
    """Read and check the settings sheet at ``path``; return its ``Settings``.

    Contacts nothing. Raises ``SheetInvalid`` (exit status 2) listing every
    problem as ``FILE:LINE: [table].key: what is wrong``, where FILE is ``path``
    as given; an unreadable file, a non-UTF-8 one, one larger than
    ``MAX_SHEET_BYTES``, or anything but a regular file (a FIFO, a device, a
    directory: refused without reading) is a single problem.
    """
    name = str(path)
    raw = sheetcheck.read_sheet_bytes(path, name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise SheetInvalid([f"{name}:{line}: syntax: not UTF-8 text (byte 0x{raw[e.start]:02x}); "
                            f"save the sheet as UTF-8"]) from None
    return parse_sheet(text, name)


def parse_sheet(text: str, name: str = "<sheet>", *, areas: Areas = AREAS) -> Settings:
    """Check a sheet given as text, ``name`` standing for FILE in problems,
    against the tables and limits of ``areas`` (the shipped page map's by default).

    Returns ``Settings``; raises ``SheetInvalid`` as ``load_sheet`` does.
    """
    text = text.removeprefix("\ufeff")        # Windows editors add a byte-order mark
    # Before tomllib: it recurses once per nesting level, and a hidden character
    # would otherwise reach the appliance as part of a value.
    early = sheetcheck.text_problems(text, name)
    if early:
        raise SheetInvalid(early)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SheetInvalid([v.syntax_problem(name, text, e)]) from None
    except RecursionError:
        raise SheetInvalid([f"{name}:1: syntax: nested too deeply"]) from None
    problems = Problems(name, v.Locator(text))
    deep = sheetcheck.too_deep(doc)
    if deep is not None:
        problems.add(deep, f"nested more than {sheetcheck.MAX_DEPTH} levels deep; "
                     "a sheet's tables hold keys, not tables of tables", where=label(deep[:2]))
        raise SheetInvalid(problems.lines())
    for place, problem in sheetcheck.value_problems(doc):
        problems.add(place, problem)
    secrets: set = set()
    _find_secrets(doc, (), problems, secrets)

    fmt = doc.get("format")
    if "format" not in doc:
        problems.add(("format",), f"missing; the sheet must start with format = {FORMAT}", line=1)
    elif not isinstance(fmt, int) or isinstance(fmt, bool):
        problems.add(("format",), f"expected the whole number {FORMAT}, got {v.kind_of(fmt)}")
    elif fmt not in FORMATS:
        problems.add(("format",), f"format {fmt} is not supported; this bringup reads formats "
                                  f"{' and '.join(map(str, FORMATS))}")
        raise SheetInvalid(problems.lines())   # another format's tables mean other things
    # a format missing or mistyped is read as format 1 (and said above)
    version = fmt if fmt in FORMATS and not isinstance(fmt, bool) else FORMAT

    tables = {table.name: table for table in records.sheet_tables(areas)}
    for key, value in doc.items():
        if key == "format" or (key,) in secrets or key in tables:
            continue
        if isinstance(value, dict):
            where, wrap = f"[{key}]", lambda c: f"[{c}]"
        elif _entries(value):
            where, wrap = f"[[{key}]]", lambda c: f"[[{c}]]" if tables[c].array else f"[{c}]"
        else:
            where, wrap = key, lambda c: f'"{c}"'
        choices = [*tables, "format"] if where == key else list(tables)
        problems.add((key,), f"unknown {'key' if where == key else 'table'}; "
                     + v.did_you_mean(key, choices, wrap), where=where)

    good: dict = {}
    for name_, table in tables.items():
        value = doc.get(name_)
        if name_ not in doc:
            if table.needs:
                problems.add((name_,), f"missing; {table.needs}", line=1,
                             where=table.needs.split()[1])
            continue
        if (name_,) in secrets:
            continue
        if table.each is not None and _entries(value):
            if version >= table.each.since:
                good[name_] = [_check_table((name_, n), entry, problems, secrets, table.each.keys)
                               for n, entry in enumerate(value)]
            else:
                problems.add((name_,), table.each.refused, where=f"[[{name_}]]")
            continue
        if table.array:
            if isinstance(value, dict):
                problems.add((name_,), f"write [[{name_}]] with double brackets, one per entry")
            elif not (isinstance(value, list) and all(isinstance(x, dict) for x in value)):
                problems.add((name_,), f"expected [[{name_}]] tables, got {v.kind_of(value)}")
            elif not value and table.needs:
                problems.add((name_,), f"is empty; {table.needs}", where=f"[[{name_}]]")
            else:
                good[name_] = [_check_table((name_, n), entry, problems, secrets,
                                            table.keys_of(version))
                               for n, entry in enumerate(value)]
        elif _entries(value):
            problems.add((name_,), f"write [{name_}] with single brackets; there is only one",
                         where=f"[[{name_}]]")
        elif not isinstance(value, dict):
            problems.add((name_,), f"expected a [{name_}] table, got {v.kind_of(value)}")
        else:
            good[name_] = _check_table((name_,), value, problems, secrets, table.keys_of(version))

    # what no single key shows: each table's own checks, then its lists' limits
    for name_, table in tables.items():
        if table.check is not None:
            table.check(doc, good, problems, areas)
        for place, problem in areas.limit_problems(good, only=name_):
            problems.add(place, problem)
    if problems.items:
        raise SheetInvalid(problems.lines())
    settings = Settings()
    for name_, table in tables.items():
        if name_ in good:
            table.load(good[name_], settings)
    return settings


# --- a summary for the start screen ------------------------------------------------

def summarize(settings: Settings) -> list[str]:
    """Return short lines saying what the sheet will set, for the console's
    start screen: one line per settings area, in apply order (addresses, gateway,
    host name, DNS, routes, NTP, syslog, e-mail), in the words the plan's
    steps use. A table the sheet leaves out is named as "not in the sheet"."""
    lines = []
    if settings.model or settings.serial:
        lines.append(f"from {' '.join(x for x in (settings.model, settings.serial) if x)}")
    lines += [line for area in AREAS if (line := area.summary(settings))]
    return lines
