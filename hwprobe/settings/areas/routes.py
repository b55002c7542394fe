"""Static routes: Networking > Static Routes, the sheet's optional ``[[route]]``.

One step per route, keyed by its destination; a route the appliance holds to
the same destination another way is deleted and added again. A route's
gateway must be reached through one of the sheet's addresses, on its NIC.
"""
from __future__ import annotations

import ipaddress

from hwprobe.settings import validate as v
from hwprobe.settings.area import Area, Change, FieldWords as F, Key, Table, nic
from hwprobe.settings.areas import ip
from hwprobe.appliance.state import ApplianceState, Route, Settings
from hwprobe.safetext import nic_key, nic_name

ORDER = 30
SECTION = "routes"


# --- the sheet -------------------------------------------------------------------------------

def _check(doc: dict, good: dict, problems, areas) -> None:
    given = ip.given(good)
    subnets = [x for x in given if x is not None]
    pairs = [(a, m) for a, m, _ in subnets]
    for n, route in enumerate(good.get("route", [])):
        if None not in given and "gateway" in route:
            problem = v.gateway_in_subnets(route["gateway"], pairs)
            if problem is None and "nic" in route:
                nics = [nic for a, m, nic in subnets if isinstance(nic, str)
                        and v.gateway_in_subnets(route["gateway"], [(a, m)]) is None]
                if nics and route["nic"] not in nics:
                    problem = (f"{route['gateway']} is reached through "
                               f"{' and '.join(sorted(set(nics)))}, not {route['nic']}")
            if problem:
                problems.add(("route", n, "gateway"), problem)
    problems.repeated("route", "destination", good.get("route", []))


def _load(entries: list[dict], out: Settings) -> None:
    out.routes = [Route(destination=r["destination"], gateway=r["gateway"], nic=r["nic"])
                  for r in entries]


def _dump(s: Settings, w) -> list[str]:
    out = []
    for route in s.routes:
        out += ["", w.header("route", array=True), *w.key("destination", route.destination),
                *w.key("gateway", route.gateway), *w.key("nic", route.nic)]
    return out


TABLE = Table(
    "route", {
        "destination": Key("str", True, v.check_cidr_network),
        "gateway": Key("str", True, v.check_ipv4),
        "nic": Key("str", True, v.check_nic),
    }, load=_load, dump=_dump, array=True, check=_check)


# --- the path to the laptop ---------------------------------------------------------------

def cutting_routes(settings: Settings, state: ApplianceState, appliance: str, laptop: str,
                   laptop_prefix: int) -> list[str]:
    """The sheet's routes that would take the appliance's answers to the
    laptop off the cable once saved, in words: a route whose destination
    holds ``laptop`` and is at least as specific as the network the
    appliance reaches it on (``appliance``'s own netmask, else
    ``laptop_prefix``). It wins, or replaces, the appliance's own route to
    the laptop: the run would lose the appliance halfway. Only an appliance
    reached on a network the sheet also routes (an earlier site's address)
    meets this. Returns [] when none does, or the addresses are not IPv4."""
    try:
        lap = ipaddress.IPv4Address(laptop)
        held = next((x for x in state.ips if x.address == appliance), None)
        near = (ipaddress.IPv4Network(f"{appliance}/{held.netmask}", strict=False).prefixlen
                if held is not None and held.netmask else laptop_prefix)
    except ValueError:
        return []
    out = []
    for r in settings.routes:
        try:
            dest = ipaddress.IPv4Network(r.destination, strict=False)
        except ValueError:
            continue
        if lap in dest and dest.prefixlen >= near:
            out.append(f"the sheet's static route {r.destination} via {r.gateway} holds the "
                       f"laptop's address {laptop}: once saved, the appliance would answer "
                       f"the laptop through {r.gateway} and the run would lose it halfway")
    return out


# --- the steps -------------------------------------------------------------------------------

def route_json(r: Route) -> dict:
    return {"destination": r.destination, "gateway": r.gateway, "nic": r.nic}


def _words(value) -> str:
    if not value:
        return "none"
    return f"{value['destination']} via {value['gateway']} on {nic_name(value['nic'])}"


def _present(state: ApplianceState, key: str):
    dest = key.split(":", 1)[1]
    return next((route_json(r) for r in state.routes if r.destination == dest), None)


def _read(section, state: ApplianceState) -> None:
    state.routes = [Route(destination=r["destination"], gateway=r["gateway"],
                          nic=nic_key(r["nic"])) for r in section.rows("table")]


def _send(driver, c: Change) -> None:
    want = Route(**c.after)
    for r in c.state.routes:
        if r.destination == want.destination and r != want:
            driver.remove_row(SECTION, "table", {"destination": r.destination}, "destination")
    driver.add_row(SECTION, "table", route_json(want), "destination")


def _capture(state: ApplianceState, out: Settings) -> None:
    out.routes = list(state.routes)


ROWS = (
    Area("routes", SECTION, "route", "Static route", "Static routes",
         wanted=lambda s: [(f"route:{r.destination}", route_json(r)) for r in s.routes],
         present=_present, read=_read, send=_send, describe=_words, capture=_capture,
         fields=(F("destination", "Destination"), F("gateway", "Gateway"), F("nic", "NIC", nic)),
         absent=None, needs_addresses=True, keyed=True),
)
