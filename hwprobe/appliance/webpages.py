"""The appliance's web pages as the web driver reads them: their menu names
(``PageNames``), a page-map section off its page (``PageSection``), and the
checks after a save (did the form take the values, which field was refused).

Page conventions are those at the top of ``pagemap.toml``: read-only values are
elements by id, tables by id with cells in the page map's column order, list
values are textareas with one entry per line.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from hwprobe.errors import ApplianceError
from hwprobe.appliance.pagemap import menu_names, page_of
from hwprobe.appliance.section import Section
from hwprobe.appliance import html

_PAGE_KEYS = ("path", "page", "action", "add_action", "delete_action", "test_action")
_SPECIAL = {"login": "the login page", "logout": "the logout page",
            "change_password": "the password change page"}


class PageNames:
    """Menu names of the appliance's pages and form actions, from the page map:
    ``of("/appliance/networking/global")`` -> "Networking > IP Configuration"."""

    def __init__(self, pages: Mapping[str, Any]):
        by_page = menu_names(pages)
        self._names: dict[str, str] = dict(by_page)
        for key, spec in pages.items():
            if key in ("menu", "console", "common") or not isinstance(spec, Mapping):
                continue
            page = spec.get("path") or spec.get("page")
            name = _SPECIAL.get(key) or by_page.get(page or "")
            if not name:
                continue
            for k in _PAGE_KEYS:
                if isinstance(spec.get(k), str):
                    self._names.setdefault(spec[k], name)

    def of(self, path: str) -> str:
        """The page's menu name, or the path itself when the map does not know it."""
        bare = path.split("?")[0]
        return self._names.get(bare) or self._names.get(bare.rstrip("/")) or bare


class PageSection(Section):
    """Section ``name`` (laid out as ``spec``) read off its page as last
    fetched. Reading a form or table the page does not hold raises
    ApplianceError naming the page (the page map may not match this firmware)."""

    def __init__(self, name: str, spec: Mapping[str, Any], page: html.Page, names: PageNames):
        super().__init__(name, spec)
        self._page, self._names = page, names
        self._where = page_of(spec) or ""

    def _form_fields(self) -> Mapping[str, str]:
        action = self.spec["action"]
        form = self._page.form(action)
        if form is None:
            raise ApplianceError(f"no form for {action} on {self._names.of(self._where)}: the "
                                 f"page map may not match this firmware")
        return form.fields

    def text(self, element_id: str) -> str | None:
        return self._page.text_of(element_id)

    def _table(self, table_id: str) -> list[list[str]]:
        rows = self._page.table(table_id)
        if rows is None:
            raise ApplianceError(f"no table {table_id!r} on {self._names.of(self._where)}: the "
                                 f"page map may not match this firmware")
        return rows


def form_shows(action: str, changes: dict[str, str]) -> Callable[[html.Page], bool]:
    """A check: does the page's form for ``action`` show these values now?
    (Password fields are write-only and not compared.)"""
    def check(page: html.Page) -> bool:
        form = page.form(action)
        return form is not None and all(
            html.lines(form.fields.get(k, "")) == html.lines(v)
            for k, v in changes.items() if "password" not in k)
    return check


def field_of(errors: list[html.Element], changes: dict[str, str]) -> str | None:
    """Which form field an error names: ``data-field``, a "field: why" message,
    or the one field that was changed."""
    for error in errors:
        if error.attrs.get("data-field"):
            return error.attrs["data-field"]
        head, sep, _ = error.text.partition(":")
        if sep and head.strip() in changes:
            return head.strip()
    named = [k for k in changes if "password" not in k and "csrf" not in k]
    return named[0] if len(named) == 1 else None
