"""The settings areas, one row each: ip, gateway, hostname, dns, routes, ntp,
syslog, smtp.

A row knows where its setting lives (its page-map section, and the page title
the page map's menu gives it), how to read the wanted value from a settings
sheet and the present one from an ``ApplianceState``, how to send it through
a driver, how to say a value in the technician's words, and its limits (counts
the appliance accepts, from the page map). The engine's plan and apply, the
sheet's summary and limits, capture, the report and the console's screens loop
over the rows, so a new setting is one row and a firmware that moves a setting
(or accepts fewer syslog servers) is a change to ``pagemap.toml``.

Rows are in apply order: addresses before the gateway and routes that need
them, the network before the services that use it. ``AREAS`` is the table
bound to the shipped page map; ``build(pages)`` binds it to another one.
Values are JSON-friendly (dicts, lists, strings) so steps, journals and reports
hold them as they are.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

from hwprobe.settings import validate as v
from hwprobe.appliance.pagemap import PAGES, menu_names
from hwprobe.appliance.state import (ApplianceState, IpAddress, Route, Settings, SmtpSettings, one_list,
                    syslog_targets)

if TYPE_CHECKING:                                   # pragma: no cover
    from hwprobe.appliance.base import ApplianceDriver

LINK_LOCAL = ipaddress.IPv4Network("169.254.0.0/16")


# --- the shapes of values ------------------------------------------------------------

def ip_json(ip: IpAddress) -> dict:
    return {"nic": ip.nic, "address": ip.address, "netmask": ip.netmask, "vlan": ip.vlan}


def route_json(r: Route) -> dict:
    return {"destination": r.destination, "gateway": r.gateway, "nic": r.nic}


def smtp_json(s: SmtpSettings | None) -> dict | None:
    if s is None:
        return None
    return {
        "relay": s.relay, "port": s.port, "encryption": s.encryption, "auth": s.auth,
        "username": s.username if s.auth == "password" else "",
        "from_address": s.from_address, "admin_contacts": list(s.admin_contacts),
    }


def _lower(items) -> list[str]:
    return [str(x).strip().lower() for x in (items or [])]


# --- the rows ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Limit:
    """How many entries a list of the area may hold: ``key`` in the sheet's
    table, ``map_key`` in the area's page-map section (``most`` is read from
    there by ``build``)."""

    key: str
    map_key: str
    noun: str
    most: int | None = None

    def problem(self, items) -> str | None:
        """None, or the sentence saying ``items`` are too many."""
        if self.most is not None and len(items) > self.most:
            return f"{len(items)} {self.noun} listed; the appliance holds at most {self.most}"
        return None


@dataclass(frozen=True)
class Change:
    """What an area's ``send`` gets: the step's wanted value, the appliance as
    read just before, the sheet, and the SMTP password (None when none)."""

    after: Any
    state: ApplianceState
    settings: Settings
    smtp_password: str | None = None


@dataclass(frozen=True)
class Secret:
    """A write-only value an area sends, read back only as "one is held"."""

    words: str
    wanted: Callable[[Settings], bool]          # the sheet needs one
    held: Callable[[ApplianceState], bool]      # the appliance says it holds one


@dataclass(frozen=True)
class Area:
    """One settings area. ``wanted(settings)`` gives (step key, value) for each
    change the sheet asks of it (none when the sheet leaves it out);
    ``present(state, key)`` the appliance's value for that key, in the same
    shape; ``send(driver, change)`` changes it (raising the driver's errors);
    ``describe(value)`` says a value in words; ``capture(state, settings)``
    copies the appliance's value into settings for a sheet."""

    name: str                       # step area and driver capability
    section: str                    # page-map section that holds its form
    table: str                      # the sheet's table
    label: str                      # the technician's name for one entry
    heading: str                    # ... for all of them (summaries)
    wanted: Callable[[Settings], list[tuple[str, Any]]]
    present: Callable[[ApplianceState, str], Any]
    send: Callable[["ApplianceDriver", Change], None]
    describe: Callable[[Any], str]
    capture: Callable[[ApplianceState, Settings], None]
    absent: str | None = "none"     # summary word when the sheet asks nothing; None: no line
    needs_addresses: bool = False   # not sent when an address of the sheet failed
    secret: Secret | None = None
    limits: tuple[Limit, ...] = ()
    keyed: bool = False             # one step per entry (addresses, routes), keyed by it
    # its value as a keyword of ``driver.set_global``: the areas that have one
    # share one form (Global Configuration), saved once with all their changes
    joint: Callable[[Settings], dict[str, Any]] | None = None
    page: str = ""                  # "Status > Basics": bound from the page map by build()

    def title(self, after) -> str:
        """The step's title: "DNS: 198.51.100.53, 203.0.113.53"."""
        return f"{self.label}: {self.describe(after)}"

    def change(self, before, after) -> str:
        """The whole change in words, before -> after: "DNS: none -> 198.51.100.53",
        "Address: add NIC2 203.0.113.20/25 (255.255.255.128), VLAN 20", "E-mail:
        relay ... (was: none)"; "(as it is)" when nothing differs."""
        now, want = self.describe(before), self.describe(after)
        if before == after:
            return f"{self.label}: {want} (as it is)"
        if before is None and self.keyed:
            return f"{self.label}: add {want}"
        if isinstance(after, dict) and not self.keyed:
            return f"{self.label}: {want} (was: {now})"
        return f"{self.label}: {now} -> {want}"

    def over_limit(self, key: str, items) -> str | None:
        """None, or why ``items`` under ``key`` of the area's table are too many."""
        return next((p for lim in self.limits if lim.key == key and (p := lim.problem(items))),
                    None)

    def summary(self, settings: Settings) -> str | None:
        """One line saying what the sheet sets here, or None for no line."""
        values = [after for _, after in self.wanted(settings)]
        if not values:
            return f"{self.heading}: {self.absent}" if self.absent else None
        return f"{self.heading}: " + "; ".join(self.describe(x) for x in values)


# --- ip ------------------------------------------------------------------------------------

def _ip_words(value) -> str:
    if not value:
        return "none"
    prefix = v.netmask_to_prefix(value["netmask"])
    mask = f"/{prefix} ({value['netmask']})" if prefix is not None else f" {value['netmask']}"
    vlan = f", VLAN {value['vlan']}" if value.get("vlan") is not None else ""
    return f"{value['nic'].upper()} {value['address']}{mask}{vlan}"


def _ip_present(state: ApplianceState, key: str):
    address = key.split(":", 2)[2]
    return next((ip_json(ip) for ip in state.ips if ip.address == address), None)


def _ip_send(d: "ApplianceDriver", c: Change) -> None:
    want = IpAddress(**c.after)
    for ip in c.state.ips:                   # same address with another mask or NIC: replace
        if ip.address == want.address and ip != want:
            d.remove_ip(ip)
    d.add_ip(want)


def _ip_capture(state: ApplianceState, out: Settings) -> None:
    # the factory address is not a production setting
    out.ips = [ip for ip in state.ips if ipaddress.IPv4Address(ip.address) not in LINK_LOCAL]


# --- routes -------------------------------------------------------------------------------

def _route_words(value) -> str:
    if not value:
        return "none"
    return f"{value['destination']} via {value['gateway']} on {value['nic'].upper()}"


def _route_present(state: ApplianceState, key: str):
    dest = key.split(":", 1)[1]
    return next((route_json(r) for r in state.routes if r.destination == dest), None)


def _route_send(d: "ApplianceDriver", c: Change) -> None:
    want = Route(**c.after)
    for r in c.state.routes:
        if r.destination == want.destination and r != want:
            d.remove_route(r)
    d.add_route(want)


# --- lists, syslog, smtp --------------------------------------------------------------------

def _list_words(value) -> str:
    return ", ".join(str(x) for x in value) if value else "none"


SYSLOG_FORMATS = {"rfc5424": "RFC 5424", "bsd": "BSD", "tls": "TLS, RFC 5425"}
ENCRYPTIONS = {"tls": "TLS", "starttls": "STARTTLS", "ssl": "SSL", "none": "no encryption"}


def _syslog_words(value) -> str:
    if not value or not (value.get("servers") or value.get("format")):
        return "none"
    if value.get("each"):
        return ", ".join(f"{t['server']}:{t['port']} ({SYSLOG_FORMATS.get(t['format'], t['format'])})"
                         for t in value["each"])
    fmt = value.get("format")
    return f"{_list_words(value['servers'])} ({SYSLOG_FORMATS.get(fmt, fmt or 'no format')})"


def _syslog_value(s: Settings) -> dict:
    """The syslog value of settings or state: one list and a format, plus each
    server's port and format ("each") when they are not all the same format
    on its default port."""
    targets = syslog_targets(s)
    value = {"servers": [t.server for t in targets],
             "format": targets[0].format if targets and one_list(targets) else
             (s.syslog_format if not targets else None)}
    if not one_list(targets):
        value["each"] = [{"server": t.server, "port": t.port, "format": t.format}
                         for t in targets]
    return value


def _syslog_wanted(s: Settings):
    if s.syslog_servers is None:
        return []
    value = _syslog_value(s)
    value["format"] = value["format"] or (None if value.get("each") else "rfc5424")
    return [("syslog", value)]


def _syslog_send(d: "ApplianceDriver", c: Change) -> None:
    s = c.settings
    targets = syslog_targets(s)
    d.set_syslog([t.server for t in targets], s.syslog_format or "rfc5424",
                 each=None if one_list(targets) else targets)


def _syslog_capture(state: ApplianceState, out: Settings) -> None:
    targets = syslog_targets(state)
    out.syslog_servers = [t.server for t in targets]
    if one_list(targets):
        out.syslog_format = targets[0].format if targets else (state.syslog_format or "rfc5424")
    else:
        out.syslog_format = None
    out.syslog_each = None if one_list(targets) else targets


def _smtp_words(value) -> str:
    if not value or not value.get("relay"):
        return "none"
    login = (f"login {value['username']} with a password" if value.get("auth") == "password"
             else "no login")
    enc = ENCRYPTIONS.get(value.get("encryption", ""), value.get("encryption", ""))
    return (f"relay {value['relay']}:{value['port']}, {enc}, {login}, "
            f"from {value.get('from_address') or 'none'}, "
            f"admin {_list_words(value.get('admin_contacts'))}")


def _smtp_send(d: "ApplianceDriver", c: Change) -> None:
    smtp = c.settings.smtp
    d.set_smtp(smtp, c.smtp_password if smtp.auth == "password" else None)


def _smtp_capture(state: ApplianceState, out: Settings) -> None:
    # no relay: e-mail is not set up on the appliance, and an [smtp] table
    # without one would not load; left out, so apply leaves e-mail alone
    smtp = replace(state.smtp, password_set=False) if state.smtp and state.smtp.relay else None
    if smtp is not None and smtp.auth != "password":
        smtp.username = ""
    out.smtp = smtp


def _set(**fields) -> Callable[[ApplianceState, Settings], None]:
    """A capture that copies ``fields`` (settings name -> function of state)."""
    def capture(state: ApplianceState, out: Settings) -> None:
        for name, read in fields.items():
            setattr(out, name, read(state))
    return capture


ROWS: tuple[Area, ...] = (
    Area("ip", "ip_config", "ip", "Address", "Addresses",
         wanted=lambda s: [(f"ip:{ip.nic}:{ip.address}", ip_json(ip)) for ip in s.ips],
         present=_ip_present, send=_ip_send, describe=_ip_words, capture=_ip_capture,
         keyed=True),
    Area("gateway", "global_config", "network", "Default gateway", "Default gateway",
         wanted=lambda s: [("gateway", s.default_gateway)] if s.default_gateway else [],
         present=lambda st, k: st.default_gateway,
         send=lambda d, c: d.set_default_gateway(c.settings.default_gateway),
         describe=lambda x: x or "none", needs_addresses=True,
         joint=lambda s: {"default_gateway": s.default_gateway},
         capture=_set(default_gateway=lambda st: st.default_gateway)),
    Area("hostname", "global_config", "network", "Host name", "Host name",
         wanted=lambda s: [("hostname", s.hostname.lower())] if s.hostname else [],
         present=lambda st, k: st.hostname.lower(),
         send=lambda d, c: d.set_hostname(c.settings.hostname),
         describe=lambda x: x or "none", joint=lambda s: {"hostname": s.hostname},
         capture=_set(hostname=lambda st: st.hostname)),
    Area("dns", "global_config", "network", "DNS", "DNS",
         # a sheet's [network] may hold dns_servers = []: clearing them is a change
         wanted=lambda s: [("dns", list(s.dns_servers))] if s.hostname or s.dns_servers else [],
         present=lambda st, k: list(st.dns_servers),
         send=lambda d, c: d.set_dns_servers(list(c.settings.dns_servers)),
         describe=_list_words, limits=(Limit("dns_servers", "max_dns_servers", "servers"),),
         joint=lambda s: {"dns_servers": list(s.dns_servers)},
         capture=_set(dns_servers=lambda st: list(st.dns_servers))),
    Area("routes", "routes", "route", "Static route", "Static routes",
         wanted=lambda s: [(f"route:{r.destination}", route_json(r)) for r in s.routes],
         present=_route_present, send=_route_send, describe=_route_words, absent=None,
         needs_addresses=True, keyed=True, capture=_set(routes=lambda st: list(st.routes))),
    Area("ntp", "ntp", "ntp", "NTP", "NTP",
         wanted=lambda s: [("ntp", _lower(s.ntp_servers))] if s.ntp_servers is not None else [],
         present=lambda st, k: _lower(st.ntp_servers),
         send=lambda d, c: d.set_ntp_servers(list(c.settings.ntp_servers or [])),
         describe=_list_words, absent="not in the sheet",
         limits=(Limit("servers", "max_servers", "servers"),),
         capture=_set(ntp_servers=lambda st: list(st.ntp_servers or []))),
    Area("syslog", "syslog", "syslog", "Syslog", "Syslog",
         wanted=_syslog_wanted,
         present=lambda st, k: _syslog_value(st), send=_syslog_send,
         describe=_syslog_words, absent="not in the sheet",
         limits=(Limit("servers", "max_servers", "servers"),),
         capture=_syslog_capture),
    Area("smtp", "smtp", "smtp", "E-mail", "E-mail",
         wanted=lambda s: [("smtp", smtp_json(s.smtp))] if s.smtp is not None else [],
         present=lambda st, k: smtp_json(st.smtp), send=_smtp_send, describe=_smtp_words,
         absent="not in the sheet",
         secret=Secret("SMTP password", wanted=lambda s: bool(s.smtp and s.smtp.auth == "password"),
                       held=lambda st: bool(st.smtp and st.smtp.password_set)),
         limits=(Limit("admin_contacts", "max_admin_contacts", "addresses"),),
         capture=_smtp_capture),
)


# --- the table, bound to a page map ---------------------------------------------------------

def page_title(pages: Mapping[str, Any], section: str) -> str:
    """The menu title of the page that holds ``section``'s form, with its
    panel: "Networking > IP Configuration > Global Configuration". A page the
    menu does not list is named by its path."""
    spec = pages[section]
    path = spec.get("path") or spec.get("page") or section
    name = menu_names(pages).get(path, path)
    return f"{name} > {spec['panel']}" if spec.get("panel") else name


@dataclass(frozen=True)
class Areas:
    """The rows bound to one page map, in apply order."""

    rows: tuple[Area, ...]
    pages: Mapping[str, Any] = field(repr=False, default_factory=dict)

    def __iter__(self) -> Iterator[Area]:
        return iter(self.rows)

    def __getitem__(self, name: str) -> Area:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(row.name for row in self.rows)

    def of_table(self, table: str) -> list[Area]:
        """The areas a sheet table holds (``network``: gateway, hostname, dns)."""
        return [row for row in self.rows if row.table == table]

    def change(self, name: str, before, after) -> str:
        """Area ``name``'s change in words (see ``Area.change``)."""
        try:
            return self[name].change(before, after)
        except KeyError:
            return f"{name}: {before} -> {after}"

    def describe(self, name: str, value) -> str:
        """``value`` of area ``name`` in words; an unknown area's value as text."""
        try:
            return self[name].describe(value)
        except KeyError:
            return "none" if value in (None, "", []) else str(value)

    def limit_problems(self, tables: Mapping[str, Any]) -> list[tuple[tuple, str]]:
        """Each list over its limit in ``tables`` (a sheet's tables, by name),
        as (place in the sheet, what is wrong)."""
        out = []
        for row in self.rows:
            table = tables.get(row.table)
            if not isinstance(table, Mapping):
                continue
            for limit in row.limits:
                items = table.get(limit.key)
                if isinstance(items, list) and (problem := row.over_limit(limit.key, items)):
                    out.append(((row.table, limit.key), problem))
        return out


def build(pages: Mapping[str, Any] = PAGES) -> Areas:
    """The table bound to the page map ``pages``: each row's page title and
    limits read from there (a limit the map does not give is no limit).
    Raises KeyError when the map lacks a section a row needs."""
    rows = []
    for row in ROWS:
        spec = pages[row.section]
        limits = tuple(replace(lim, most=int(spec[lim.map_key])) for lim in row.limits
                       if lim.map_key in spec)
        rows.append(replace(row, page=page_title(pages, row.section), limits=limits))
    return Areas(tuple(rows), pages)


AREAS: Areas = build()
