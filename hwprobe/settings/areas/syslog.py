"""Syslog servers: Security > Appliance Administration, the sheet's optional
``[syslog]`` (or, format 2, one ``[[syslog]]`` per server).

Two firmware layouts (the page map's profiles): the older one list of up to
ten servers in one format on port 514, the newer up to three slots, each its
own host, port and format (TLS, RFC 5425, among them). The value is one list
and a format, plus each server's port and format ("each") when they are not
all the same format on its default port.
"""
from __future__ import annotations

from hwprobe.errors import ValidationRefused
from hwprobe.settings import validate as v
from hwprobe.settings.area import (Area, Change, Each, FieldWords as F, Key, Limit, Table, choice,
                                   listed)
from hwprobe.appliance.state import (DEFAULT_SYSLOG_PORTS, ApplianceState, Settings, SyslogServer,
                                     one_list, syslog_targets)

ORDER = 50
SECTION = "syslog"
SYSLOG_FORMATS = {"rfc5424": "RFC 5424", "bsd": "BSD", "tls": "TLS, RFC 5425"}


# --- the sheet -------------------------------------------------------------------------------

def _check(doc: dict, good: dict, problems, areas) -> None:
    each = good["syslog"] if isinstance(good.get("syslog"), list) else []
    problems.repeated("syslog", "server", each)
    most = areas["syslog"].over_limit("servers", each)
    if most:
        problems.add(("syslog", len(each) - 1), most, where="[[syslog]]")


def _load(table, out: Settings) -> None:
    if isinstance(table, dict):
        out.syslog_servers, out.syslog_format = list(table["servers"]), table["format"]
        return
    each = [SyslogServer(t["server"], t.get("port", DEFAULT_SYSLOG_PORTS[t["format"]]),
                         t["format"]) for t in table]
    out.syslog_servers = [t.server for t in each]
    out.syslog_format = each[0].format if one_list(each) else None
    out.syslog_each = None if one_list(each) else each


def _dump(s: Settings, w) -> list[str]:
    out = []
    if s.syslog_each is not None and s.syslog_each and w.format == 2:
        for n, target in enumerate(syslog_targets(s)):
            head = w.header("syslog", array=True, one_per="server")
            out += ["", head if n == 0 else "[[syslog]]",
                    *w.key("server", target.server), *w.key("port", target.port),
                    *w.key("format", target.format, "rfc5424 | bsd | tls (RFC 5425)")]
    elif s.syslog_servers is not None or s.syslog_format is not None:
        out += ["", w.header("syslog"), *w.key("servers", list(s.syslog_servers or []),
                                               w.most("syslog", "servers"))]
        out += w.key("format", s.syslog_format or "rfc5424",
                     "rfc5424 | bsd | tls" if w.format == 2 else "rfc5424 | bsd")
    return out


def _format(s: Settings) -> int:
    """2 for per-server settings or syslog over TLS (the newer firmware)."""
    each = s.syslog_each
    return 2 if (each and not one_list(each)) or s.syslog_format == "tls" else 1


TABLE = Table(
    "syslog", {
        "servers": Key("list", True, v.check_server),
        "format": Key("str", True, lambda x: v.check_choice(x, ("rfc5424", "bsd"))),
    }, load=_load, dump=_dump, check=_check, format=_format,
    format2={"format": Key("str", True, lambda x: v.check_choice(x, ("rfc5424", "bsd", "tls")))},
    each=Each({
        "server": Key("str", True, v.check_server),
        "port": Key("int", False, v.check_port),
        "format": Key("str", True, lambda x: v.check_choice(x, ("rfc5424", "bsd", "tls"))),
    }, since=2, refused="one [[syslog]] per server needs format = 2; format 1 has one [syslog] "
                        "with servers and format"),
    ready="syslog ([syslog])", ready_when=lambda s: s.syslog_servers is not None)


# --- the steps -------------------------------------------------------------------------------

def _words(value) -> str:
    if not value or not (value.get("servers") or value.get("format")):
        return "none"
    if value.get("each"):
        return ", ".join(f"{t['server']}:{t['port']} ({SYSLOG_FORMATS.get(t['format'], t['format'])})"
                         for t in value["each"])
    fmt = value.get("format")
    return f"{listed(value['servers'])} ({SYSLOG_FORMATS.get(fmt, fmt or 'no format')})"


def _value(s: Settings) -> dict:
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


def _wanted(s: Settings):
    if s.syslog_servers is None:
        return []
    value = _value(s)
    value["format"] = value["format"] or (None if value.get("each") else "rfc5424")
    return [("syslog", value)]


def _read(section, state: ApplianceState) -> None:
    if not section.has("slots"):
        state.syslog_servers = section.lines("servers")
        state.syslog_format = section.field("format").strip().lower() or None
        return
    # the newer layout: one host, port and format per server slot; a slot
    # with no host is unused. The format is the servers' one format, or None
    # when they differ (with no server: the first slot's)
    each, first = [], ""
    defaults = section.spec.get("default_ports", {})
    for n in range(1, int(section.spec["slots"]) + 1):
        fmt = section.field("format", n).strip().lower()
        first = first or fmt
        host = section.field("server", n).strip()
        if not host:
            continue
        port = section.field("port", n).strip()
        each.append(SyslogServer(host, int(port) if port.isascii() and port.isdigit()
                                 else int(defaults.get(fmt, 514)), fmt))
    state.syslog_each = each
    state.syslog_servers = [t.server for t in each]
    formats = {t.format for t in each}
    state.syslog_format = (formats.pop() if len(formats) == 1 else None) if each else (first or None)


def _send(driver, c: Change) -> None:
    """The one-list layout gets the servers and one format; the newer one each
    server's host, port and format, slot by slot (empty slots cleared).
    ValidationRefused when this firmware cannot hold them."""
    targets = syslog_targets(c.settings)
    fmt = c.settings.syslog_format or "rfc5424"
    each = None if one_list(targets) else targets
    spec = driver.layout(SECTION)
    if "slots" not in spec:
        if each is not None:
            raise ValidationRefused(
                f"this appliance (software {driver.software_version}) takes one syslog "
                f"format for every server, on port 514: not "
                + ", ".join(f"{t.server}:{t.port} {t.format}" for t in each),
                page=driver.page_name(SECTION), field=spec["servers"])
        driver.save(SECTION, {"servers": [t.server for t in targets], "format": fmt})
        return
    defaults, slots = spec.get("default_ports", {}), int(spec["slots"])
    if each is None:
        each = [SyslogServer(t.server, int(defaults.get(fmt, 514)), fmt) for t in targets]
    if len(each) > slots:
        raise ValidationRefused(
            f"this appliance (software {driver.software_version}) takes {spec['slots']} "
            f"syslog servers; {len(each)} were given", page=driver.page_name(SECTION),
            field=spec["server"].format(n=1))
    each += [SyslogServer("", int(defaults.get(fmt, 514)), fmt)] * (slots - len(each))
    driver.save(SECTION, {"server": [t.server for t in each],
                          "port": [str(t.port) if t.server else "" for t in each],
                          "format": [t.format for t in each]})


def _fits(s: Settings, profile) -> list[str]:
    problems = []
    servers = list(s.syslog_servers or [])
    if len(servers) > profile["syslog_servers"]:
        problems.append(f"this appliance takes {profile['syslog_servers']} syslog servers; the "
                        f"sheet has {len(servers)} ([syslog].servers)")
    targets = syslog_targets(s)
    asked = sorted({t.format for t in targets} - set(profile["syslog_formats"]))
    if asked:
        problems.append(f"this appliance's syslog formats are "
                        f"{', '.join(profile['syslog_formats'])}; the sheet asks for "
                        f"{', '.join(asked)} ([syslog] format)")
    elif not profile.get("syslog_per_server") and not one_list(targets):
        problems.append("this appliance takes one syslog format for all its servers, each on "
                        "port 514; the sheet gives each server its own ("
                        + ", ".join(f"{t.server}:{t.port} {t.format}" for t in targets)
                        + "; [[syslog]])")
    return problems


def _capture(state: ApplianceState, out: Settings) -> None:
    targets = syslog_targets(state)
    out.syslog_servers = [t.server for t in targets]
    if one_list(targets):
        out.syslog_format = targets[0].format if targets else (state.syslog_format or "rfc5424")
    else:
        out.syslog_format = None
    out.syslog_each = None if one_list(targets) else targets


ROWS = (
    Area("syslog", SECTION, "syslog", "Syslog", "Syslog",
         wanted=_wanted, present=lambda st, k: _value(st), read=_read, send=_send,
         describe=_words, absent="not in the sheet", capture=_capture, fits=_fits,
         fields=(F("servers", "Servers", many=True), F("format", "Format", choice(SYSLOG_FORMATS))),
         limits=(Limit("servers", "max_servers", "servers"),)),
)
