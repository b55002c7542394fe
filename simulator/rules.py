"""The appliance's validation rules, in its own words.

Each checker returns the clean value or raises ValueError with the reason
(without the field name: the caller prefixes it). ``consistency`` checks the
rules that span forms (gateways must be reachable).
"""
from __future__ import annotations

import ipaddress
import re
from typing import Callable, Iterable

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+\.)*[A-Za-z0-9-]+$")


# --- validation helpers (each returns the clean value or raises ValueError) ---

def ipv4(text: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not an IPv4 address") from None


def prefix(text: str) -> int:
    mask = text.strip()
    try:
        value = int(ipaddress.IPv4Address(mask))
    except ValueError:
        raise ValueError(f"{text!r} is not a netmask (example: 255.255.255.0)") from None
    inverted = ~value & 0xFFFFFFFF
    if value == 0 or inverted & (inverted + 1):
        raise ValueError(f"{mask} is not a valid netmask: its one bits must be contiguous")
    return 32 - inverted.bit_length()


def netmask_of(prefix: int) -> str:
    return str(ipaddress.IPv4Network(f"0.0.0.0/{prefix}").netmask)


def hostname(text: str) -> str:
    name = text.strip().rstrip(".")
    if len(name) > 253 or not name or not all(_LABEL.match(p) for p in name.split(".")):
        raise ValueError(f"{text!r} is not a valid host name (RFC 1123)")
    if all(p.isdigit() for p in name.split(".")):
        raise ValueError(f"{text!r} is not a valid host name or IPv4 address")
    return name.lower()


def host(text: str) -> str:
    """An IPv4 address or a host name."""
    t = text.strip()
    if re.fullmatch(r"[0-9.]+", t):
        return str(ipv4(t))
    return hostname(t)


def email(text: str) -> str:
    t = text.strip()
    if not _EMAIL.match(t) or len(t) > 254:
        raise ValueError(f"{text!r} is not an e-mail address")
    hostname(t.split("@", 1)[1])
    return t


def items(value: str | Iterable[str]) -> list[str]:
    """Split a textarea (one per line) or console answer (commas) into items."""
    if isinstance(value, str):
        value = re.split(r"[\r\n,]+", value)
    return [v.strip() for v in value if v and v.strip()]


def ipv4_str(text: str) -> str:
    return str(ipv4(text))


def list_of(items: list[str], check: Callable[[str], str], field: str, problems: list[str]) -> list[str]:
    out = []
    for item in items:
        try:
            value = check(item)
        except ValueError as e:
            problems.append(f"{field}: {e}")
            continue
        if value in out:
            problems.append(f"{field}: {value} is listed twice")
        out.append(value)
    return out


def network(ip: dict) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(f"{ip['address']}/{ip['netmask']}", strict=False)


def consistency(st: dict) -> list[str]:
    """Rules that span forms: the gateway and route gateways must be reachable."""
    problems = []
    own = {ip["address"] for ip in st["ips"]}
    gw = st["default_gateway"]
    if gw:
        g = ipaddress.IPv4Address(gw)
        if gw in own:
            problems.append(f"default_gateway: {gw} is one of the appliance's own addresses")
        elif not any(g in network(ip) for ip in st["ips"]):
            problems.append(f"default_gateway: {gw} is not in any configured subnet")
    for r in st["routes"]:
        g = ipaddress.IPv4Address(r["gateway"])
        if not any(g in network(ip) for ip in st["ips"] if ip["nic"] == r["nic"]):
            problems.append(f"gateway: route to {r['destination']} via {r['gateway']} "
                            f"is not in a subnet configured on {r['nic']}")
    return problems


