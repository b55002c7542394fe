"""Reading the appliance's web pages into typed state (used by the web driver).

Page conventions are those at the top of ``pagemap.toml``: read-only values are
elements by id, tables by id with cells in the page map's column order, list
values are textareas with one entry per line.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from hwprobe.errors import ApplianceError
from hwprobe.appliance.pagemap import menu_names
from hwprobe.appliance.state import ApplianceState, IpAddress, NicInfo, Route, SmtpSettings, SyslogServer
from hwprobe.appliance import html

_PAGE_KEYS = ("path", "page", "action", "add_action", "delete_action", "test_action")
_SPECIAL = {"login": "the login page", "logout": "the logout page",
            "change_password": "the password change page"}
_YES = {"yes", "up", "true", "detected", "link detected", "1", "on"}


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


def _table(pages: Mapping[str, Any], page: html.Page, table_id: str, where: str,
           names: PageNames | None) -> list[list[str]]:
    rows = page.table(table_id)
    if rows is None:
        name = names.of(where) if names else where
        raise ApplianceError(f"no table {table_id!r} on {name}: the page map may not "
                             f"match this firmware")
    return rows


def _cell(row: list[str], columns: tuple, name: str) -> str:
    i = columns.index(name)
    return row[i] if i < len(row) else ""


def _vlan(text: str) -> int | None:
    t = text.strip().lower().removeprefix("vlan").strip(" =")
    return int(t) if t.isascii() and t.isdigit() else None


def ips_from(pages: Mapping[str, Any], page: html.Page,
             names: PageNames | None = None) -> list[IpAddress]:
    """The addresses table of Networking > IP Configuration."""
    spec = pages["ip_config"]
    cols = tuple(spec["address_columns"])
    return [IpAddress(nic=_cell(r, cols, "nic").lower(), address=_cell(r, cols, "address"),
                      netmask=_cell(r, cols, "netmask"), vlan=_vlan(_cell(r, cols, "vlan")))
            for r in _table(pages, page, spec["address_table"], spec["path"], names)]


def nics_from(pages: Mapping[str, Any], page: html.Page,
              names: PageNames | None = None) -> list[NicInfo]:
    """The NIC table of Networking > IP Configuration (MAC lower case)."""
    spec = pages["ip_config"]
    cols = tuple(spec["nic_columns"])
    return [NicInfo(name=_cell(r, cols, "nic").lower(), mac=_cell(r, cols, "mac").lower(),
                    link=_cell(r, cols, "link").strip().lower() in _YES)
            for r in _table(pages, page, spec["nic_table"], spec["path"], names)]


def _form(page: html.Page, action: str, where: str, names: PageNames) -> html.Form:
    form = page.form(action)
    if form is None:
        raise ApplianceError(f"no form for {action} on {names.of(where)}: the page map may "
                             f"not match this firmware")
    return form


def read_page_state(pages: Mapping[str, Any], page: Callable[[str], html.Page],
                    names: PageNames) -> ApplianceState:
    """Build an ApplianceState from the pages ``page(path)`` returns.

    Raises ApplianceError naming the page when a table or form is missing."""
    state = ApplianceState()
    basics = pages["status_basics"]
    shown = page(basics["path"])
    for name in basics["values"]:
        value = shown.text_of(name)
        if value is not None and hasattr(state, name):
            setattr(state, name, value)

    ntp = pages["ntp"]
    state.ntp_servers = html.lines(
        _form(page(ntp["page"]), ntp["action"], ntp["page"], names).fields.get(ntp["servers"], ""))

    ip = pages["ip_config"]
    ip_page = page(ip["path"])
    state.nics = nics_from(pages, ip_page, names)
    state.ips = ips_from(pages, ip_page, names)
    glob = pages["global_config"]
    fields = _form(page(glob["page"]), glob["action"], glob["page"], names).fields
    state.hostname = fields.get(glob["hostname"], "").strip()
    state.default_gateway = fields.get(glob["default_gateway"], "").strip()
    state.dns_servers = html.lines(fields.get(glob["dns_servers"], ""))

    routes = pages["routes"]
    cols = tuple(routes["columns"])
    state.routes = [Route(destination=_cell(r, cols, "destination"),
                          gateway=_cell(r, cols, "gateway"), nic=_cell(r, cols, "nic").lower())
                    for r in _table(pages, page(routes["path"]), routes["table"],
                                    routes["path"], names)]

    syslog = pages["syslog"]
    fields = _form(page(syslog["page"]), syslog["action"], syslog["page"], names).fields
    if "slots" in syslog:
        _syslog_slots(syslog, fields, state)
    else:
        state.syslog_servers = html.lines(fields.get(syslog["servers"], ""))
        state.syslog_format = fields.get(syslog["format"], "").strip().lower() or None

    smtp = pages["smtp"]
    smtp_page = page(smtp["page"])
    fields = _form(smtp_page, smtp["action"], smtp["page"], names).fields
    port = fields.get(smtp["port"], "").strip()
    password_set = smtp_page.text_of(smtp["password_set"])
    if password_set is None:
        password_set = fields.get(smtp["password_set"], "")
    state.smtp = SmtpSettings(
        relay=fields.get(smtp["relay"], "").strip(),
        port=int(port) if port.isascii() and port.isdigit() else 0,
        encryption=fields.get(smtp["encryption"], "").strip().lower(),
        # the newer layout has no authentication selector: a user name means a login
        auth=(fields.get(smtp["auth"], "").strip().lower() if "auth" in smtp
              else "password" if fields.get(smtp["username"], "").strip() else "none"),
        username=fields.get(smtp["username"], "").strip(),
        from_address=fields.get(smtp["from_address"], "").strip(),
        admin_contacts=html.lines(fields.get(smtp["admin_contacts"], "")),
        password_set=password_set.strip().lower() in _YES,
    )
    return state


def _syslog_slots(spec: Mapping[str, Any], fields: dict, state: ApplianceState) -> None:
    """The newer layout: one host, port and format per server slot; a slot
    with no host is unused. ``syslog_format`` is the servers' one format, or
    None when they differ (with no server: the first slot's)."""
    each, first = [], ""
    defaults = spec.get("default_ports", {})
    for n in range(1, int(spec["slots"]) + 1):
        fmt = fields.get(spec["format"].format(n=n), "").strip().lower()
        first = first or fmt
        host = fields.get(spec["server"].format(n=n), "").strip()
        if not host:
            continue
        port = fields.get(spec["port"].format(n=n), "").strip()
        each.append(SyslogServer(host, int(port) if port.isascii() and port.isdigit()
                                 else int(defaults.get(fmt, 514)), fmt))
    state.syslog_each = each
    state.syslog_servers = [t.server for t in each]
    formats = {t.format for t in each}
    state.syslog_format = (formats.pop() if len(formats) == 1 else None) if each else (first or None)


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
