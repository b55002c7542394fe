"""Does a page hold what the page map says it holds? (``bringup survey`` and
the web driver's check before the first change.)

Each page-map section says in its ``holds`` which of its keys name form
fields (and of which form, by the form's action key), read-only values
(element ids) and tables; a section without ``holds`` is not checked. The
names themselves come from the page map, so a firmware that renamed a field
shows here as that field "missing" and the new name "unexpected". A key
whose value holds ``{n}`` stands for one field per server slot (``slots`` of
the section: the newer firmware's syslog servers).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping

from hwprobe.appliance import html
from hwprobe.appliance.pagemap import page_of

FOUND, MISSING, UNEXPECTED = "found", "missing", "unexpected"
# the keys naming where a form goes: a POST's action, or a page a GET form opens
FORM_KEYS = ("action", "_page")


@dataclass(frozen=True)
class Finding:
    """One field of one page: found, missing (the map names it, the page does
    not show it) or unexpected (the page shows it, the map does not name it)."""

    section: str
    page: str           # its path
    field: str
    kind: str           # "form field" | "value" | "table" | "form" | "page"
    status: str
    form: str = ""      # the form's action, for form fields

    def to_json(self) -> dict:
        return asdict(self)


def _names(spec: Mapping[str, Any], key: str) -> list[str]:
    value = spec.get(key)
    if value is None:
        return []
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    out = []
    for item in items:
        if isinstance(item, str) and "{n}" in item:
            out += [item.format(n=n) for n in range(1, int(spec.get("slots", 1)) + 1)]
        elif isinstance(item, str):
            out.append(item)
    return out


def known_actions(pages: Mapping[str, Any]) -> set[str]:
    """Every form action the page map names (any section, any ``*action`` key,
    and any ``*_page`` a form opens, such as the certificate export)."""
    found = {pages["login"]["path"], pages["change_password"]["path"]}
    for spec in pages.values():
        if isinstance(spec, Mapping):
            found.update(v for k, v in spec.items()
                         if k.endswith(FORM_KEYS) and isinstance(v, str))
    return found


def check_section(pages: Mapping[str, Any], section: str, page: html.Page) -> list[Finding]:
    """Findings for one section on its page (already fetched)."""
    spec = pages[section]
    expect = spec.get("holds", {})
    where = page_of(spec) or ""
    csrf = pages["common"]["csrf_field"]
    out: list[Finding] = []
    for key in expect.get("values", ()):
        for name in _names(spec, key):
            out.append(Finding(section, where, name, "value",
                               FOUND if page.by_id(name) is not None else MISSING))
    for key in expect.get("tables", ()):
        for name in _names(spec, key):
            out.append(Finding(section, where, name, "table",
                               FOUND if page.table(name) is not None else MISSING))
    for action_key, field_keys in ((k, v) for k, v in expect.items() if k.endswith(FORM_KEYS)):
        action = spec.get(action_key)
        if not action:
            continue
        form = page.form(action)
        if form is None:
            out.append(Finding(section, where, action, "form", MISSING, action))
            continue
        wanted = [n for k in field_keys for n in _names(spec, k)]
        shown = set(form.fields) | set(form.kinds)
        out += [Finding(section, where, n, "form field", FOUND if n in shown else MISSING, action)
                for n in wanted]
        out += [Finding(section, where, n, "form field", UNEXPECTED, action)
                for n in sorted(shown - set(wanted) - {csrf})]
    return out


def check_page(pages: Mapping[str, Any], path: str, page: html.Page) -> list[Finding]:
    """Findings for every section the map puts on ``path``, plus forms on the
    page posting somewhere the map does not know."""
    out: list[Finding] = []
    for section in checked_sections(pages):
        if page_of(pages[section]) == path:
            out += check_section(pages, section, page)
    known = known_actions(pages)
    for form in page.forms:
        bare = form.action.split("?")[0]
        if bare and bare not in known:
            out.append(Finding("", path, bare, "form", UNEXPECTED, bare))
    return out


def pages_to_walk(pages: Mapping[str, Any]) -> list[str]:
    """Every page path the map's sections name, in menu order first."""
    seen: dict[str, None] = {}
    for entries in pages.get("menu", {}).values():
        for _, key in entries:
            path = page_of(pages.get(key, {}))
            if path:
                seen.setdefault(path)
    for section in checked_sections(pages):
        if page_of(pages[section]):
            seen.setdefault(page_of(pages[section]))
    return list(seen)


def checked_sections(pages: Mapping[str, Any]) -> list[str]:
    """The sections that say what their page holds, in the map's order."""
    return [name for name, spec in pages.items()
            if isinstance(spec, Mapping) and "holds" in spec]
