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

Required: ``format = 1``, at least one ``[[ip]]`` (nic, address, netmask or
prefix; vlan optional), ``[network]`` with hostname, default_gateway and
dns_servers (may be ``[]``). ``[appliance]``, ``[[route]]``, ``[ntp]``,
``[syslog]`` and ``[smtp]`` are optional; a table that is present needs all its
keys (``Settings`` holds None for an absent ntp, syslog or smtp table).

Rules worth knowing: ``netmask`` (dotted) or ``prefix`` (0-32), one of them and
never both; ``[smtp].username`` is required when ``auth = "password"`` and
refused when ``auth = "none"``; the default gateway and every route gateway are
checked against the ``[[ip]]`` subnets only when every ``[[ip]]`` address and
netmask is itself valid (otherwise the fix there comes first). A key that looks
like a secret is refused without echoing its value. Lists the appliance holds
only so many of (DNS, NTP and syslog servers, admin contacts) are checked
against the page map's limits (see hwprobe/settings/areas.py), so a sheet the appliance
would refuse half-way through a run is refused when it is loaded.

``dump_sheet``/``write_sheet`` write format 1 back (``capture``), with comments
naming the appliance page of each table; ``load_sheet`` accepts what they write
and returns an equal ``Settings``. ``summarize`` gives short lines for a screen.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from hwprobe.settings import sheetcheck, validate as v
from hwprobe.settings.areas import AREAS, Areas
from hwprobe.constants import ENV_PASSWORD, ENV_SMTP_PASSWORD
from hwprobe.errors import SheetInvalid
from hwprobe.fsutil import atomic_write
from hwprobe.appliance.state import (DEFAULT_SYSLOG_PORTS, IpAddress, Route, Settings, SmtpSettings,
                           SyslogServer, one_list, syslog_targets)

FORMAT = 1          # what dump_sheet writes when format 1 holds the settings
FORMATS = (1, 2)    # format 2: format 1 plus [[syslog]] per server, e-mail "ssl"
ARRAY_TABLES = ("ip", "route")
_SECRET = re.compile(r"pass|secret|token|pwd|credential|api_?key", re.I)

# table -> key -> (type, required, check); type is "str", "int" or "list" (of str)
_SCHEMA: dict[str, dict[str, tuple[str, bool, object]]] = {
    "appliance": {"model": ("str", False, None), "serial": ("str", False, None)},
    "ip": {
        "nic": ("str", True, v.check_nic),
        "address": ("str", True, v.check_ipv4),
        "netmask": ("str", False, v.check_netmask),
        "prefix": ("int", False, v.check_netmask),
        "vlan": ("int", False, v.check_vlan),
    },
    "network": {
        "hostname": ("str", True, v.check_hostname),
        "default_gateway": ("str", True, v.check_ipv4),
        "dns_servers": ("list", True, v.check_ipv4),
    },
    "route": {
        "destination": ("str", True, v.check_cidr_network),
        "gateway": ("str", True, v.check_ipv4),
        "nic": ("str", True, v.check_nic),
    },
    "ntp": {"servers": ("list", True, v.check_server)},
    "syslog": {
        "servers": ("list", True, v.check_server),
        "format": ("str", True, lambda x: v.check_choice(x, ("rfc5424", "bsd"))),
    },
    "smtp": {
        "relay": ("str", True, v.check_server),
        "port": ("int", True, v.check_port),
        "encryption": ("str", True, lambda x: v.check_choice(x, ("tls", "starttls", "none"))),
        "auth": ("str", True, lambda x: v.check_choice(x, ("none", "password"))),
        "username": ("str", False, lambda x: "is empty" if x == "" else None),
        "from_address": ("str", True, v.check_email),
        "admin_contacts": ("list", True, v.check_email),
    },
    "failover": {
        "method": ("str", True, lambda x: v.check_choice(x, ("shared_ip", "dns", "nat"))),
        "peer_address": ("str", True, v.check_ipv4),
        "shared_ips": ("list", False, v.check_ipv4),
    },
    "backup": {"note": ("str", True, lambda x: "is empty" if not x.strip() else None)},
}
# format 2: one [[syslog]] per server, each its own port and format (the newer
# firmware); format 2 also takes format 1's [syslog] and more e-mail encryptions
_SYSLOG_EACH = {
    "server": ("str", True, v.check_server),
    "port": ("int", False, v.check_port),
    "format": ("str", True, lambda x: v.check_choice(x, ("rfc5424", "bsd", "tls"))),
}
_FORMAT2 = {**_SCHEMA,
            "syslog": {**_SCHEMA["syslog"], "format": _SYSLOG_EACH["format"]},
            "smtp": {**_SCHEMA["smtp"], "encryption": (
                "str", True, lambda x: v.check_choice(x, ("tls", "starttls", "ssl", "none")))}}
_REQUIRED_TABLES = ("ip", "network")
_NEEDS = {"ip": "add [[ip]] tables, one per address of the appliance",
          "network": "add [network] with hostname, default_gateway and dns_servers"}

# Comments dump_sheet writes on the tables that are no settings area; an
# area's table is named by its page in the page map (hwprobe/settings/areas.py).
_NOT_AREAS = {
    "appliance": "Status > Basics of the old box; informational",
    "failover": "/login > Management > Failover; used by bringup failover",
    "backup": "the /login backup: where its password is kept, never the password",
}


def label(path: tuple) -> str:
    """Name a place in a sheet as problems show it: ``("ip", 1, "netmask")`` ->
    ``[ip#2].netmask``, ``("network",)`` -> ``[network]``, ``("format",)`` -> ``format``."""
    if len(path) == 1 and path[0] not in _SCHEMA:
        return str(path[0])
    head = f"[{path[0]}#{path[1] + 1}]" if len(path) > 1 and isinstance(path[1], int) else f"[{path[0]}]"
    rest = [str(p) for p in path[1:] if not isinstance(p, int)]
    return head + "".join("." + p for p in rest)


class _Problems:
    def __init__(self, name: str, locator: v.Locator):
        self.name, self.locator, self.items = name, locator, []

    def add(self, path: tuple, message: str, line: int | None = None, where: str | None = None) -> None:
        line = line if line is not None else self.locator.line(path)
        where = where or label(path)
        self.items.append((line, len(self.items), f"{self.name}:{line}: {where}: {message}"))

    def lines(self) -> list[str]:
        return [text for _, _, text in sorted(self.items)]


def _secret_message(path: tuple) -> str:
    if any("smtp" in str(p).lower() for p in path):
        return f"passwords do not belong in a sheet: use {ENV_SMTP_PASSWORD}"
    return (f"passwords do not belong in a sheet: use {ENV_PASSWORD} for the appliance "
            f"or {ENV_SMTP_PASSWORD} for SMTP")


def _find_secrets(node, path: tuple, problems: _Problems, found: set) -> None:
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        here = path + (key,)
        if isinstance(key, str) and _SECRET.search(key):
            problems.add(here, _secret_message(here))
            found.add(here)
        elif isinstance(value, dict) or (isinstance(value, list) and value
                                          and all(isinstance(x, dict) for x in value)):
            _find_secrets(value, here, problems, found)


def _check_table(path: tuple, table: dict, problems: _Problems, secrets: set,
                 schema: dict | None = None) -> dict:
    """Check one table's keys against the schema; return the keys whose values are good."""
    schema = schema if schema is not None else _SCHEMA[path[0]]
    good = {}
    for key, value in table.items():
        if path + (key,) in secrets:
            continue
        if key not in schema:
            problems.add(path + (key,), "unknown key; " + v.did_you_mean(key, schema))
    for key, (kind, required, check) in schema.items():
        here = path + (key,)
        if key not in table:
            if required:
                problems.add(here, "missing", line=problems.locator.line(path))
            continue
        value = table[key]
        problem = v.type_problem(key, kind, value)
        if problem is None and check is not None:
            items = value if kind == "list" else [value]
            problem = next((p for p in map(check, items) if p), None)
            if problem is None and kind == "list":
                twice = sorted({x for x in value if value.count(x) > 1})
                if twice:
                    problem = f"{v.quote(twice[0])} is listed twice"
        if problem:
            problems.add(here, problem)
        else:
            good[key] = value
    return good


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
    against the limits of ``areas`` (the shipped page map's by default).

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
    problems = _Problems(name, v.Locator(text))
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
    schema = _FORMAT2 if fmt == 2 else _SCHEMA

    for key, value in doc.items():
        if key == "format" or (key,) in secrets or key in _SCHEMA:
            continue
        if isinstance(value, dict):
            where, wrap = f"[{key}]", lambda c: f"[{c}]"
        elif isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            where, wrap = f"[[{key}]]", lambda c: f"[[{c}]]" if c in ARRAY_TABLES else f"[{c}]"
        else:
            where, wrap = key, lambda c: f'"{c}"'
        choices = [*_SCHEMA, "format"] if where == key else list(_SCHEMA)
        problems.add((key,), f"unknown {'key' if where == key else 'table'}; "
                     + v.did_you_mean(key, choices, wrap), where=where)

    good: dict = {}
    for table in _SCHEMA:
        value = doc.get(table)
        if table not in doc:
            if table in _REQUIRED_TABLES:
                need = _NEEDS[table]
                problems.add((table,), f"missing; {need}", line=1, where=need.split()[1])
            continue
        if (table,) in secrets:
            continue
        if table == "syslog" and isinstance(value, list) and value \
                and all(isinstance(x, dict) for x in value):
            if fmt == 2:
                good["syslog_each"] = [_check_table(("syslog", n), entry, problems, secrets,
                                                    _SYSLOG_EACH) for n, entry in enumerate(value)]
            else:
                problems.add((table,), "one [[syslog]] per server needs format = 2; format 1 "
                             "has one [syslog] with servers and format", where="[[syslog]]")
            continue
        if table in ARRAY_TABLES:
            if isinstance(value, dict):
                problems.add((table,), f"write [[{table}]] with double brackets, one per entry")
            elif not (isinstance(value, list) and all(isinstance(x, dict) for x in value)):
                problems.add((table,), f"expected [[{table}]] tables, got {v.kind_of(value)}")
            elif not value and table in _REQUIRED_TABLES:
                problems.add((table,), f"is empty; {_NEEDS[table]}", where=f"[[{table}]]")
            else:
                good[table] = [_check_table((table, n), entry, problems, secrets)
                               for n, entry in enumerate(value)]
        elif isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            problems.add((table,), f"write [{table}] with single brackets; there is only one",
                         where=f"[[{table}]]")
        elif not isinstance(value, dict):
            problems.add((table,), f"expected a [{table}] table, got {v.kind_of(value)}")
        else:
            good[table] = _check_table((table,), value, problems, secrets, schema[table])

    _cross_checks(doc, good, problems, areas)
    if problems.items:
        raise SheetInvalid(problems.lines())
    return _settings(good)


def _cross_checks(doc: dict, good: dict, problems: _Problems, areas: Areas) -> None:
    ips = good.get("ip", [])
    subnets, seen, given = [], {}, []
    for n, ip in enumerate(ips):
        mask = ip.get("netmask", ip.get("prefix"))
        if "netmask" in ip and "prefix" in ip:
            problems.add(("ip", n, "prefix"), "give netmask or prefix, not both")
        raw = doc["ip"][n]
        if "netmask" not in raw and "prefix" not in raw:
            problems.add(("ip", n), "netmask or prefix is required")
        if "address" in ip and mask is not None:
            problem = v.check_host_address(ip["address"], mask)
            if problem:
                problems.add(("ip", n, "address"), problem)
            subnets.append((ip["address"], mask, ip.get("nic")))
            given.append((ip["address"], mask))
        else:
            given.append(None)
        if "address" in ip:
            if ip["address"] in seen:
                problems.add(("ip", n, "address"),
                             f"{ip['address']} is already {label(('ip', seen[ip['address']], 'address'))}")
            seen.setdefault(ip["address"], n)

    pairs = [(a, m) for a, m, _ in subnets]
    all_ips_good = None not in given
    network = good.get("network", {})
    if "default_gateway" in network:
        problem = v.default_gateway_problem(network["default_gateway"], given)
        if problem:
            problems.add(("network", "default_gateway"), problem)

    destinations: dict = {}
    for n, route in enumerate(good.get("route", [])):
        if all_ips_good and "gateway" in route:
            problem = v.gateway_in_subnets(route["gateway"], pairs)
            if problem is None and "nic" in route:
                nics = [nic for a, m, nic in subnets if isinstance(nic, str)
                        and v.gateway_in_subnets(route["gateway"], [(a, m)]) is None]
                if nics and route["nic"] not in nics:
                    problem = f"{route['gateway']} is reached through {' and '.join(sorted(set(nics)))}, not {route['nic']}"
            if problem:
                problems.add(("route", n, "gateway"), problem)
        if "destination" in route:
            if route["destination"] in destinations:
                first = label(("route", destinations[route["destination"]], "destination"))
                problems.add(("route", n, "destination"), f"{route['destination']} is already {first}")
            destinations.setdefault(route["destination"], n)

    for place, problem in areas.limit_problems(good):
        problems.add(place, problem)
    each = good.get("syslog_each", [])
    hosts: dict = {}
    for n, target in enumerate(each):
        if "server" in target:
            if target["server"] in hosts:
                problems.add(("syslog", n, "server"), f"{target['server']} is already "
                             f"{label(('syslog', hosts[target['server']], 'server'))}")
            hosts.setdefault(target["server"], n)
    most = areas["syslog"].over_limit("servers", each)
    if most:
        problems.add(("syslog", len(each) - 1), most, where="[[syslog]]")

    smtp, raw_smtp = good.get("smtp", {}), doc.get("smtp")
    if isinstance(raw_smtp, dict):
        if smtp.get("auth") == "password" and "username" not in raw_smtp:
            problems.add(("smtp", "username"), 'missing; auth = "password" needs a username',
                         line=problems.locator.line(("smtp", "auth")))
        if smtp.get("auth") == "none" and "username" in raw_smtp:
            problems.add(("smtp", "username"), 'is not used with auth = "none"; remove it '
                         'or set auth = "password"')


def _settings(good: dict) -> Settings:
    appliance, network = good.get("appliance", {}), good["network"]
    ips = [IpAddress(nic=ip["nic"], address=ip["address"],
                     netmask=v.to_netmask(ip.get("netmask", ip.get("prefix"))), vlan=ip.get("vlan"))
           for ip in good["ip"]]
    routes = [Route(destination=r["destination"], gateway=r["gateway"], nic=r["nic"])
              for r in good.get("route", [])]
    settings = Settings(
        model=appliance.get("model", ""), serial=appliance.get("serial", ""), ips=ips,
        hostname=network["hostname"], default_gateway=network["default_gateway"],
        dns_servers=list(network["dns_servers"]), routes=routes)
    if "ntp" in good:
        settings.ntp_servers = list(good["ntp"]["servers"])
    if "syslog" in good:
        settings.syslog_servers = list(good["syslog"]["servers"])
        settings.syslog_format = good["syslog"]["format"]
    if "syslog_each" in good:
        each = [SyslogServer(t["server"], t.get("port", DEFAULT_SYSLOG_PORTS[t["format"]]),
                             t["format"]) for t in good["syslog_each"]]
        settings.syslog_servers = [t.server for t in each]
        settings.syslog_format = each[0].format if one_list(each) else None
        settings.syslog_each = None if one_list(each) else each
    if "smtp" in good:
        s = good["smtp"]
        settings.smtp = SmtpSettings(
            relay=s["relay"], port=s["port"], encryption=s["encryption"], auth=s["auth"],
            username=s.get("username", ""), from_address=s["from_address"],
            admin_contacts=list(s["admin_contacts"]))
    if "failover" in good:
        f = good["failover"]
        settings.failover = {"method": f["method"], "peer_address": f["peer_address"],
                             "shared_ips": list(f.get("shared_ips", []))}
    if "backup" in good:
        settings.backup = {"note": good["backup"]["note"]}
    return settings


# --- writing sheets -----------------------------------------------------------

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


def _key(key: str, value, comment: str | None = None) -> list[str]:
    line = f"{key} = {_value(value)}"
    if isinstance(value, list) and len(line) > 78:
        return [f"{key} = ["] + [f"    {_value(x)}," for x in value] + ["]"]
    return [f"{line:<32} # {comment}" if comment else line]


def _header(name: str, array: bool = False) -> str:
    head = f"[[{name}]]" if array else f"[{name}]"
    areas = AREAS.of_table(name)
    page = areas[0].page if areas else _NOT_AREAS[name]
    return f"{head:<32} # {page}" + (f", one per {areas[0].label.lower()}" if array else "")


def dump_sheet(settings: Settings, *, source_note: str | None = None) -> str:
    """Return ``settings`` as a format 1 sheet, with a comment on each table
    naming the appliance page it comes from. ``load_sheet`` accepts the text and
    returns an equal ``Settings`` (when the settings are themselves valid).

    Tables that are None in ``settings`` are left out; ``source_note`` becomes a
    comment at the top (for example where and when it was captured). No password
    is written: ``smtp.password_set`` only leaves a reminder comment.
    """
    fmt = sheet_format(settings)
    out = [f"# Settings sheet for one B Series appliance (bringup format {fmt})."]
    out += [f"# {line}".rstrip() for line in (source_note or "").splitlines()]
    out += ["# No password belongs in this file: bringup asks for them, or reads",
            "# BRINGUP_PASSWORD / BRINGUP_NEW_PASSWORD / BRINGUP_SMTP_PASSWORD.",
            f"format = {fmt}"]
    if settings.model or settings.serial:
        out += ["", _header("appliance")]
        out += _key("model", settings.model) if settings.model else []
        out += _key("serial", settings.serial) if settings.serial else []
    for ip in settings.ips:
        prefix = v.netmask_to_prefix(ip.netmask)
        out += ["", _header("ip", array=True), *_key("nic", ip.nic), *_key("address", ip.address),
                *_key("netmask", ip.netmask, f"/{prefix}" if prefix is not None else None)]
        out += _key("vlan", ip.vlan) if ip.vlan is not None else []
    out += ["", _header("network"), *_key("hostname", settings.hostname),
            *_key("default_gateway", settings.default_gateway),
            *_key("dns_servers", list(settings.dns_servers), _most("network", "dns_servers"))]
    for route in settings.routes:
        out += ["", _header("route", array=True), *_key("destination", route.destination),
                *_key("gateway", route.gateway), *_key("nic", route.nic)]
    if settings.ntp_servers is not None:
        out += ["", _header("ntp"), *_key("servers", list(settings.ntp_servers), _most("ntp", "servers"))]
    if settings.syslog_each is not None and settings.syslog_each and fmt == 2:
        for n, target in enumerate(syslog_targets(settings)):
            head = f"{'[[syslog]]':<32} # {AREAS['syslog'].page}, one per server"
            out += ["", head if n == 0 else "[[syslog]]",
                    *_key("server", target.server), *_key("port", target.port),
                    *_key("format", target.format, "rfc5424 | bsd | tls (RFC 5425)")]
    elif settings.syslog_servers is not None or settings.syslog_format is not None:
        out += ["", _header("syslog"), *_key("servers", list(settings.syslog_servers or []),
                                             _most("syslog", "servers"))]
        out += _key("format", settings.syslog_format or "rfc5424",
                    "rfc5424 | bsd | tls" if fmt == 2 else "rfc5424 | bsd")
    smtp = settings.smtp
    if smtp is not None:
        out += ["", _header("smtp"), *_key("relay", smtp.relay), *_key("port", smtp.port),
                *_key("encryption", smtp.encryption,
                      "tls | starttls | ssl | none" if fmt == 2 else "tls | starttls | none"),
                *_key("auth", smtp.auth, "none | password")]
        out += _key("username", smtp.username) if smtp.username or smtp.auth == "password" else []
        if smtp.password_set:
            out += [f"# the appliance holds an SMTP password: give it with {ENV_SMTP_PASSWORD}"]
        out += [*_key("from_address", smtp.from_address),
                *_key("admin_contacts", list(smtp.admin_contacts), _most("smtp", "admin_contacts"))]
    if settings.failover:
        f = settings.failover
        out += ["", _header("failover"), *_key("method", f["method"], "shared_ip | dns | nat"),
                *_key("peer_address", f["peer_address"]),
                *_key("shared_ips", list(f.get("shared_ips", [])))]
    if settings.backup:
        out += ["", _header("backup"), *_key("note", settings.backup["note"])]
    return "\n".join(out) + "\n"


def sheet_format(settings: Settings) -> int:
    """1 when format 1 holds ``settings``; 2 when they need per-server syslog
    settings, syslog over TLS or e-mail encryption "ssl" (the newer firmware)."""
    each = settings.syslog_each
    if (each and not one_list(each)) or settings.syslog_format == "tls" \
            or (settings.smtp is not None and settings.smtp.encryption == "ssl"):
        return 2
    return 1


def write_sheet(settings: Settings, path, *, source_note: str | None = None) -> Path:
    """Write ``settings`` as a sheet at ``path`` atomically (a reader sees the
    old file or the new one, never half). Returns the path. Raises OSError when
    the directory cannot be written."""
    return atomic_write(path, dump_sheet(settings, source_note=source_note), mode=0o644)


def _most(table: str, key: str) -> str | None:
    """A comment giving the limit of ``[table].key``, or None when it has none."""
    for area in AREAS.of_table(table):
        for limit in area.limits:
            if limit.key == key and limit.most is not None:
                return f"at most {limit.most}"
    return None


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
