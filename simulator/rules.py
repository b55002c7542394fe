"""The appliance's validation rules, in its own words.

Each checker returns the clean value or raises ValueError with the reason
(without the field name: the caller prefixes it). A form's checker
(``nic_address``, ``route``, ``smtp``) returns every problem as "field: why" and the
clean entry. ``consistency`` checks the rules that span forms (gateways must
be reachable).
"""
from __future__ import annotations

import ipaddress
import re
from typing import Callable, Iterable

from .factory import NICS

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+\.)*[A-Za-z0-9-]+$")


# --- validation helpers (each returns the clean value or raises ValueError) ---

def ipv4(text: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not an IPv4 address") from None


def is_ipv4(text: str) -> bool:
    """True when ``text`` is exactly a dotted-quad IPv4 address: no white
    space around it, no number above 255, no leading zero."""
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


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


# --- one form's fields --------------------------------------------------------

def nic_address(nic: str, address: str, netmask: str, vlan: str | int | None) -> tuple[list[str], dict]:
    """IP Configuration's new address: (problems, entry). The entry
    ({nic, address, netmask, vlan}) is empty when there is a problem: a NIC
    other than nic1/nic2, a bad address or netmask, a VLAN ID outside 1-4094
    ("" or "-": none), an address no NIC may hold or its subnet's network or
    broadcast address."""
    problems, entry = [], {}
    nic = (nic or "").strip().lower()
    if nic not in NICS:
        problems.append(f"nic: {nic!r} is not a NIC (nic1 or nic2)")
    try:
        addr = ipv4(address)
    except ValueError as e:
        problems.append(f"address: {e}")
        addr = None
    try:
        bits = prefix(netmask)
    except ValueError as e:
        problems.append(f"netmask: {e}")
        bits = None
    vlan_text = "" if vlan is None else str(vlan).strip()
    vlan_id = None
    if vlan_text and vlan_text != "-":
        if not vlan_text.isdigit() or not 1 <= int(vlan_text) <= 4094:
            problems.append(f"vlan: {vlan_text!r} is not a VLAN ID (1-4094)")
        else:
            vlan_id = int(vlan_text)
    if addr is not None:
        if addr.is_unspecified or addr.is_loopback or addr.is_multicast or addr.is_reserved:
            problems.append(f"address: {addr} cannot be used on a NIC")
        elif bits is not None and bits <= 30:
            net = ipaddress.IPv4Network(f"{addr}/{bits}", strict=False)
            if addr in (net.network_address, net.broadcast_address):
                problems.append(f"address: {addr} is the network or broadcast address of {net}")
    if not problems:
        entry = {"nic": nic, "address": str(addr), "netmask": netmask_of(bits), "vlan": vlan_id}
    return problems, entry


def route(destination: str, gateway: str, nic: str) -> tuple[list[str], dict]:
    """Static Routes' new route: (problems, {destination, gateway, nic}).
    Problems: a destination that is no network in CIDR form or is the default
    route, a bad gateway address, a NIC other than nic1/nic2."""
    problems = []
    dest_text = destination.strip()
    try:
        net = ipaddress.IPv4Network(dest_text)
        if net.prefixlen == 0:
            problems.append("destination: 0.0.0.0/0 is the default gateway, set it in Global Configuration")
    except ValueError as e:
        problems.append(f"destination: {dest_text!r} is not a network in CIDR form ({e})")
        net = None
    try:
        gw = str(ipv4(gateway))
    except ValueError as e:
        problems.append(f"gateway: {e}")
        gw = ""
    n = nic.strip().lower()
    if n not in NICS:
        problems.append(f"nic: {n!r} is not a NIC (nic1 or nic2)")
    return problems, {"destination": str(net), "gateway": gw, "nic": n}


AUTHS = ("none", "password")


def smtp(relay: str, port: str | int, encryption: str, auth: str, username: str,
         from_address: str, admin_contacts: str | Iterable[str], encryptions: tuple[str, ...],
         max_contacts: int) -> tuple[list[str], dict]:
    """Email Configuration's fields but the password: (problems, the smtp
    settings checked so far). Problems: a bad relay, port, from address or
    contact, too many contacts, an encryption not in ``encryptions``, an
    authentication other than none/password, password authentication without
    a user name. The settings always hold ``auth``, lower case."""
    problems: list[str] = []
    smtp: dict = {}
    try:
        smtp["relay"] = host(relay) if relay.strip() else ""
    except ValueError as e:
        problems.append(f"relay: {e}")
    p = str(port).strip()
    if not p.isdigit() or not 1 <= int(p) <= 65535:
        problems.append(f"port: {p!r} is not a port number (1-65535)")
    else:
        smtp["port"] = int(p)
    enc, au = encryption.strip().lower(), auth.strip().lower()
    if enc not in encryptions:
        problems.append(f"encryption: {encryption!r} is not one of "
                        f"{', '.join(encryptions)}")
    if au not in AUTHS:
        problems.append(f"auth: {auth!r} is not one of none, password")
    smtp.update(encryption=enc, auth=au, username=username.strip())
    if au == "password" and not smtp["username"]:
        problems.append("smtp_username: a user name is required with password authentication")
    try:
        smtp["from_address"] = email(from_address) if from_address.strip() else ""
    except ValueError as e:
        problems.append(f"from_address: {e}")
    contacts = items(admin_contacts)
    if len(contacts) > max_contacts:
        problems.append(f"admin_contacts: {len(contacts)} given, at most {max_contacts} allowed")
    smtp["admin_contacts"] = list_of(contacts, email, "admin_contacts", problems)
    return problems, smtp


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


