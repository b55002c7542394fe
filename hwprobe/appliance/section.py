"""One page-map section as the appliance shows it now: what the settings areas
read, by the section's page-map keys, whichever driver read it.

A ``Section`` answers in the page map's terms: ``field(key)`` is the value of
the form field the section calls ``key``, ``value(key)`` the text of the
read-only element it names, ``rows(table)`` the rows of the table it names
(each a dict by the names of its columns: the key's "columns" for "table",
``address_columns`` for ``address_table``), ``lines(key)`` a list field. How a
list is written is the driver's: one entry per line on the web, comma
separated on the console. The web reads a section off a page
(``webpages.PageSection``), the console off what its "show" items print; a
test or a fixed picture builds one from plain data.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from hwprobe.appliance.html import lines as web_lines    # a textarea: one entry per line

# what a page (or the console) shows for "yes": a link detected, a password held
YES = frozenset({"yes", "up", "true", "detected", "link detected", "1", "on"})


def columns_key(table: str) -> str:
    """The page-map key of a table's column names: "address_table" ->
    "address_columns", "table" -> "columns"."""
    return table[: -len("table")] + "columns"


def comma_lines(value: str) -> list[str]:
    """A comma separated value as a list (the console's way), trimmed."""
    return [part.strip() for part in value.split(",") if part.strip()]


class Section:
    """The section ``name`` laid out as ``spec`` (its page-map table, as this
    firmware has it), over plain data: ``fields`` (form field name -> value),
    ``values`` (element id -> text), ``tables`` (table id -> rows of cells).
    A field that is not there reads "", a value None, a table no rows."""

    def __init__(self, name: str, spec: Mapping[str, Any], *,
                 fields: Mapping[str, str] | None = None,
                 values: Mapping[str, str] | None = None,
                 tables: Mapping[str, list[list[str]]] | None = None,
                 split: Callable[[str], list[str]] = web_lines):
        self.name, self.spec = name, spec
        self._fields, self._values, self._tables = fields or {}, values or {}, tables or {}
        self._split = split

    def has(self, key: str) -> bool:
        """Does this firmware's layout name ``key`` (the newer e-mail page has no "auth")?"""
        return key in self.spec

    def field_name(self, key: str, n: int | None = None) -> str:
        """The form field ``key`` names; ``n``: its server slot ("syslog_server_{n}")."""
        name = self.spec[key]
        return name.format(n=n) if n is not None else name

    def field(self, key: str, n: int | None = None) -> str:
        """The value of the form field ``key`` names ("" when the form lacks it)."""
        return self._form_fields().get(self.field_name(key, n), "")

    def lines(self, key: str) -> list[str]:
        """A list field's entries."""
        return self._split(self.field(key))

    def text(self, element_id: str) -> str | None:
        """The text of the read-only element ``element_id`` (None when not shown)."""
        return self._values.get(element_id)

    def value(self, key: str) -> str | None:
        """The text of the read-only element ``key`` names (None when not shown)."""
        return self.text(self.spec[key])

    def rows(self, table: str) -> list[dict[str, str]]:
        """The rows of the table ``table`` names, each by its column names
        (a cell the row lacks is "")."""
        columns = tuple(self.spec[columns_key(table)])
        return [{c: (row[i] if i < len(row) else "") for i, c in enumerate(columns)}
                for row in self._table(self.spec[table])]

    def _form_fields(self) -> Mapping[str, str]:
        return self._fields

    def _table(self, table_id: str) -> list[list[str]]:
        return self._tables.get(table_id, [])
