"""Host name, default gateway and DNS servers: Networking > IP Configuration >
Global Configuration, the sheet's ``[network]``.

Three steps on one form: the engine saves them together, once. The gateway
waits for the addresses (it must be in one of their subnets); a sheet's
``dns_servers = []`` clears the appliance's DNS servers, and is a change.
"""
from __future__ import annotations

from hwprobe.settings import validate as v
from hwprobe.settings.area import Area, FieldWords as F, Key, Limit, Table, Typed, listed
from hwprobe.settings.areas import ip
from hwprobe.appliance.state import Settings

ORDER = 20
SECTION = "global_config"


# --- the sheet -------------------------------------------------------------------------------

def _check(doc: dict, good: dict, problems, areas) -> None:
    network = good.get("network", {})
    if "default_gateway" in network:
        addresses = [None if x is None else x[:2] for x in ip.given(good)]
        problem = v.default_gateway_problem(network["default_gateway"], addresses)
        if problem:
            problems.add(("network", "default_gateway"), problem)


def _load(table: dict, out: Settings) -> None:
    out.hostname, out.default_gateway = table["hostname"], table["default_gateway"]
    out.dns_servers = list(table["dns_servers"])


def _dump(s: Settings, w) -> list[str]:
    return ["", w.header("network"), *w.key("hostname", s.hostname),
            *w.key("default_gateway", s.default_gateway),
            *w.key("dns_servers", list(s.dns_servers), w.most("network", "dns_servers"))]


TABLE = Table(
    "network", {
        "hostname": Key("str", True, v.check_hostname),
        "default_gateway": Key("str", True, v.check_ipv4),
        "dns_servers": Key("list", True, v.check_ipv4),
    }, load=_load, dump=_dump, check=_check,
    needs="add [network] with hostname, default_gateway and dns_servers",
    ready="hostname, gateway, DNS ([network])",
    ready_when=lambda s: bool(s.hostname and s.default_gateway and s.dns_servers))


# --- typed on the console's Network step -------------------------------------------------------

def _servers(text: str) -> list[str]:
    """DNS servers as typed: separated by commas or spaces."""
    return [part.strip() for part in text.replace(" ", ",").split(",") if part.strip()]


def _gateway_problem(area, text: str, addresses: list) -> str | None:
    return (v.check_ipv4(text) or v.default_gateway_problem(text, addresses)) if text else None


def _dns_problem(area, text: str, addresses: list) -> str | None:
    servers = _servers(text)
    # the same limit the sheet is checked against when it is loaded
    return (next((p for p in map(v.check_ipv4, servers) if p), None)
            or area.over_limit("dns_servers", servers))


# --- the steps -------------------------------------------------------------------------------

def _words(value) -> str:
    return value or "none"


def _copy(name: str):
    """A capture that copies the appliance's ``name`` into the settings."""
    def capture(state, out: Settings) -> None:
        value = getattr(state, name)
        setattr(out, name, list(value) if isinstance(value, list) else value)
    return capture


ROWS = (
    Area("gateway", SECTION, "network", "Default gateway", "Default gateway",
         wanted=lambda s: [("gateway", s.default_gateway)] if s.default_gateway else [],
         present=lambda st, k: st.default_gateway,
         read=lambda section, st: setattr(st, "default_gateway",
                                          section.field("default_gateway").strip()),
         describe=_words, capture=_copy("default_gateway"), needs_addresses=True,
         joint=lambda s: {"default_gateway": s.default_gateway},
         fields=(F(None, "Default gateway"),),
         typed=Typed("Gateway", "e.g. 198.51.100.1", lambda s: s.default_gateway,
                     _gateway_problem, lambda text: {"default_gateway": text}),
         placeholders=lambda s: {"default_gateway": s.default_gateway} if s.default_gateway
         else {}),
    Area("hostname", SECTION, "network", "Host name", "Host name",
         wanted=lambda s: [("hostname", s.hostname)] if s.hostname else [],
         present=lambda st, k: st.hostname,
         same=lambda held, wanted: (held or "").lower() == (wanted or "").lower(),
         read=lambda section, st: setattr(st, "hostname", section.field("hostname").strip()),
         describe=_words, capture=_copy("hostname"),
         joint=lambda s: {"hostname": s.hostname},
         fields=(F(None, "Host name"),),
         typed=Typed("Host name", "e.g. support.example.net", lambda s: s.hostname,
                     lambda area, text, addresses: v.check_hostname(text) if text else None,
                     lambda text: {"hostname": text}),
         placeholders=lambda s: {"hostname": s.hostname} if s.hostname else {}),
    Area("dns", SECTION, "network", "DNS", "DNS",
         # a sheet's [network] may hold dns_servers = []: clearing them is a change
         wanted=lambda s: [("dns", list(s.dns_servers))] if s.hostname or s.dns_servers else [],
         present=lambda st, k: list(st.dns_servers),
         read=lambda section, st: setattr(st, "dns_servers", section.lines("dns_servers")),
         describe=listed, capture=_copy("dns_servers"),
         limits=(Limit("dns_servers", "max_dns_servers", "servers"),),
         joint=lambda s: {"dns_servers": list(s.dns_servers)},
         fields=(F(None, "DNS servers", many=True),),
         typed=Typed("DNS servers", "comma separated, e.g. 198.51.100.53",
                     lambda s: ", ".join(s.dns_servers), _dns_problem,
                     lambda text: {"dns_servers": _servers(text)}),
         placeholders=lambda s: {"dns_servers": ", ".join(s.dns_servers)} if s.dns_servers
         else {}),
)
