"""hwprobe.port.rtnl, the small rtnetlink client the takeover uses, reads and
changes a port as iproute2 (`ip`, the independent peer) shows it (lab)."""
from __future__ import annotations

import json
import socket
import subprocess

import pytest

from hwprobe.port.rtnl import NetlinkError, Rtnl

pytestmark = pytest.mark.lab


@pytest.fixture
def lab(make_lab):
    return make_lab(start_sim=False)


def _ip(lab, *args) -> str:
    return subprocess.run(["ip", "-n", lab.laptop_ns, *args], check=True,
                          capture_output=True, text=True).stdout


def _ipj(lab, *args):
    return json.loads(_ip(lab, "-j", *args))


def test_links_addresses_and_routes_read_as_ip_shows_them(lab):
    from simulator.lab import in_netns

    _ip(lab, "link", "set", "lan0", "up")
    _ip(lab, "addr", "add", "169.254.200.9/24", "brd", "169.254.200.255", "dev", "lan0",
        "label", "lan0:old")
    _ip(lab, "addr", "add", "10.99.0.5/24", "dev", "lan0", "valid_lft", "300",
        "preferred_lft", "200")
    _ip(lab, "route", "add", "10.98.0.0/16", "via", "10.99.0.1", "dev", "lan0", "metric", "7",
        "proto", "static")
    _ip(lab, "route", "add", "default", "via", "10.99.0.1", "dev", "lan0")
    shown = _ipj(lab, "link", "show", "lan0")[0]
    with in_netns(lab.laptop_ns), Rtnl() as nl:
        (index,) = nl.link_lookup(ifname="lan0")
        link = nl.get_links(index)[0]
        addrs = nl.get_addr(family=socket.AF_INET, index=index)
        routes = nl.get_routes(family=socket.AF_INET, table=254)
        defaults = nl.get_default_routes(family=socket.AF_INET)
        assert nl.link_lookup(ifname="nosuchport") == []
        assert [l["ifname"] for l in nl.get_links()] == [
            l["ifname"] for l in json.loads(_ip(lab, "-j", "link", "show"))]
    assert index == shown["ifindex"] and link["ifname"] == "lan0"
    assert link["address"] == shown["address"] and link["operstate"] == shown["operstate"]
    assert link["kind"] == "veth" and bool(link["flags"] & 1) == ("UP" in shown["flags"])
    assert link["carrier"] == 1
    want = [a for a in _ipj(lab, "addr", "show", "dev", "lan0")[0]["addr_info"]
            if a["family"] == "inet"]
    assert [(a["address"], a["prefixlen"], a["broadcast"], a["label"]) for a in addrs] == [
        (a["local"], a["prefixlen"], a.get("broadcast"), a.get("label", "lan0")) for a in want]
    leased = next(a for a in addrs if a["address"] == "10.99.0.5")
    assert 0 < leased["IFA_CACHEINFO"]["ifa_valid"] <= 300
    assert next(a for a in addrs if a["address"] == "169.254.200.9")[
        "IFA_CACHEINFO"]["ifa_valid"] == 0xFFFFFFFF
    route = next(r for r in routes if r["dst"] == "10.98.0.0")
    assert (route["dst_len"], route["gateway"], route["priority"], route["oif"],
            route["proto"]) == (16, "10.99.0.1", 7, index, 4)
    assert [r["oif"] for r in defaults] == [index]


def test_changes_land_as_ip_then_shows_them_and_refusals_carry_the_errno(lab):
    from simulator.lab import in_netns

    with in_netns(lab.laptop_ns), Rtnl() as nl:
        (index,) = nl.link_lookup(ifname="lan0")
        nl.link("set", index=index, state="up")
        nl.addr("add", index=index, address="10.99.0.5", prefixlen=24,
                broadcast="10.99.0.255", label="lan0:x")
        nl.route("add", dst="10.97.0.0/16", oif=index, proto=4, gateway="10.99.0.1",
                 priority=9)
        nl.route("add", dst="0.0.0.0/0", oif=index, proto=4, gateway="10.99.0.1")
        with pytest.raises(NetlinkError) as err:
            nl.addr("add", index=index, address="10.99.0.5", prefixlen=24)
        assert err.value.code == 17                     # EEXIST
        shown_addr = _ipj(lab, "addr", "show", "dev", "lan0")[0]
        shown_routes = _ip(lab, "-4", "route", "show", "dev", "lan0")
        nl.addr("del", index=index, address="10.99.0.5", prefixlen=24)
        with pytest.raises(NetlinkError) as err:
            nl.addr("del", index=index, address="10.99.0.5", prefixlen=24)
        assert err.value.code == 99                     # EADDRNOTAVAIL
        nl.link("set", index=index, state="down")
    assert "UP" in shown_addr["flags"]
    v4 = [a for a in shown_addr["addr_info"] if a["family"] == "inet"]
    assert [(a["local"], a["prefixlen"], a["broadcast"], a["label"]) for a in v4] == [
        ("10.99.0.5", 24, "10.99.0.255", "lan0:x")]
    assert "10.97.0.0/16 via 10.99.0.1 proto static metric 9" in shown_routes
    assert "default via 10.99.0.1 proto static" in shown_routes
    assert [a for a in _ipj(lab, "addr", "show", "dev", "lan0")[0]["addr_info"]
            if a["family"] == "inet"] == []
    assert "UP" not in _ipj(lab, "link", "show", "lan0")[0]["flags"]
