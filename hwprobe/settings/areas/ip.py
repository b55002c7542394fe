"""The appliance's addresses: Networking > IP Configuration (per NIC its MAC,
link and addresses; Add New IP, delete), the sheet's ``[[ip]]``.

One step per address, keyed by NIC and address. An address the appliance
holds with another mask or NIC is deleted and added again; addresses the
sheet does not name (the factory address the laptop is talking to, above
all) are left alone. Addresses go first: the gateway and routes need them.
"""
from __future__ import annotations

import ipaddress

from hwprobe.settings import validate as v
from hwprobe.settings.area import Area, Change, FieldWords as F, Key, Table, netmask, nic
from hwprobe.appliance.section import YES
from hwprobe.appliance.state import ApplianceState, IpAddress, NicInfo, Settings
from hwprobe.safetext import nic_key, nic_name

ORDER = 10
SECTION = "ip_config"
LINK_LOCAL = ipaddress.IPv4Network("169.254.0.0/16")


# --- the sheet -------------------------------------------------------------------------------

def given(good: dict) -> list[tuple[str, object, str | None] | None]:
    """Each ``[[ip]]`` of a sheet's checked tables as (address, netmask or
    prefix, NIC), None for one whose address or mask is not good: what the
    gateways of other tables are checked against."""
    out = []
    for ip in good.get("ip", []):
        mask = ip.get("netmask", ip.get("prefix"))
        out.append((ip["address"], mask, ip.get("nic")) if "address" in ip and mask is not None
                   else None)
    return out


def _check(doc: dict, good: dict, problems, areas) -> None:
    for n, ip in enumerate(good.get("ip", [])):
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
    problems.repeated("ip", "address", good.get("ip", []))


def _load(entries: list[dict], out: Settings) -> None:
    out.ips = [IpAddress(nic=ip["nic"], address=ip["address"],
                         netmask=v.to_netmask(ip.get("netmask", ip.get("prefix"))),
                         vlan=ip.get("vlan")) for ip in entries]


def _dump(s: Settings, w) -> list[str]:
    out = []
    for ip in s.ips:
        prefix = v.netmask_to_prefix(ip.netmask)
        out += ["", w.header("ip", array=True), *w.key("nic", ip.nic),
                *w.key("address", ip.address),
                *w.key("netmask", ip.netmask, f"/{prefix}" if prefix is not None else None)]
        out += w.key("vlan", ip.vlan) if ip.vlan is not None else []
    return out


TABLE = Table(
    "ip", {
        "nic": Key("str", True, v.check_nic),
        "address": Key("str", True, v.check_ipv4),
        "netmask": Key("str", False, v.check_netmask),
        "prefix": Key("int", False, v.check_netmask),
        "vlan": Key("int", False, v.check_vlan),
    }, load=_load, dump=_dump, array=True, check=_check,
    needs="add [[ip]] tables, one per address of the appliance",
    ready="IP addresses ([[ip]])", ready_when=lambda s: bool(s.ips))


# --- the steps -------------------------------------------------------------------------------

def ip_json(ip: IpAddress) -> dict:
    return {"nic": ip.nic, "address": ip.address, "netmask": ip.netmask, "vlan": ip.vlan}


def _words(value) -> str:
    if not value:
        return "none"
    prefix = v.netmask_to_prefix(value["netmask"])
    mask = f"/{prefix} ({value['netmask']})" if prefix is not None else f" {value['netmask']}"
    vlan = f", VLAN {value['vlan']}" if value.get("vlan") is not None else ""
    return f"{nic_name(value['nic'])} {value['address']}{mask}{vlan}"


def _present(state: ApplianceState, key: str):
    address = key.split(":", 2)[2]
    return next((ip_json(ip) for ip in state.ips if ip.address == address), None)


def _vlan(text: str) -> int | None:
    t = text.strip().lower().removeprefix("vlan").strip(" =")
    return int(t) if t.isascii() and t.isdigit() else None


def _read(section, state: ApplianceState) -> None:
    state.nics = [NicInfo(name=nic_key(r["nic"]), mac=r["mac"].lower(),
                          link=r["link"].strip().lower() in YES)
                  for r in section.rows("nic_table")]
    state.ips = [IpAddress(nic=nic_key(r["nic"]), address=r["address"], netmask=r["netmask"],
                           vlan=_vlan(r["vlan"])) for r in section.rows("address_table")]


def _send(driver, c: Change) -> None:
    want = IpAddress(**c.after)
    for ip in c.state.ips:                   # same address with another mask or NIC: replace
        if ip.address == want.address and ip != want:
            driver.remove_row(SECTION, "address_table", {"nic": ip.nic, "address": ip.address},
                              "address")
    driver.add_row(SECTION, "address_table", ip_json(want), "address")


def _capture(state: ApplianceState, out: Settings) -> None:
    # the factory address is not a production setting
    out.ips = [ip for ip in state.ips if ipaddress.IPv4Address(ip.address) not in LINK_LOCAL]


def _placeholders(s: Settings) -> dict[str, str]:
    if not s.ips:
        return {}
    first = s.ips[0]
    return {"ip_address": first.address, "ip_netmask": first.netmask, "ip_nic": first.nic.upper()}


ROWS = (
    Area("ip", SECTION, "ip", "Address", "Addresses",
         wanted=lambda s: [(f"ip:{ip.nic}:{ip.address}", ip_json(ip)) for ip in s.ips],
         present=_present, read=_read, send=_send, describe=_words, capture=_capture,
         fields=(F("nic", "NIC", nic), F("address", "Address"), F("netmask", "Netmask", netmask),
                 F("vlan", "VLAN")),
         keyed=True, placeholders=_placeholders),
)
