"""A sheet's static route that would take the appliance's answers to the
laptop off the cable is named before the first change.

Met on an appliance reached at an earlier site's address: the sheet may route
that very network elsewhere (its new site reaches it through a router).
Once saved, the run would lose the appliance halfway, with some settings
sent and none read back. The rule: a route whose destination holds the
laptop's address and is at least as specific as the network the appliance
reaches the laptop on. The lab test of the whole refusal is in
tests/test_listen_lab.py.
"""
from __future__ import annotations

from hwprobe.appliance.state import ApplianceState, IpAddress, Route, Settings
from hwprobe.settings.areas.routes import cutting_routes


def _sheet(*routes: tuple[str, str]) -> Settings:
    return Settings(routes=[Route(d, g, "nic1") for d, g in routes])


HELD = ApplianceState(ips=[IpAddress("nic1", "198.51.100.140", "255.255.255.128")])


def test_a_route_as_specific_as_the_appliance_s_own_network_or_more_is_named():
    for dest in ("198.51.100.128/25", "198.51.100.136/29", "198.51.100.141/32"):
        [said] = cutting_routes(_sheet((dest, "203.0.113.254")), HELD, "198.51.100.140",
                                "198.51.100.141", 24)
        assert said == (f"the sheet's static route {dest} via 203.0.113.254 holds the laptop's "
                        f"address 198.51.100.141: once saved, the appliance would answer the "
                        f"laptop through 203.0.113.254 and the run would lose it halfway")


def test_a_wider_route_or_one_elsewhere_leaves_the_path_alone():
    wider = _sheet(("198.51.100.0/24", "203.0.113.254"))       # its own /25 wins
    elsewhere = _sheet(("198.51.100.0/25", "203.0.113.254"), ("10.0.0.0/8", "203.0.113.254"))
    for sheet in (wider, elsewhere):
        assert cutting_routes(sheet, HELD, "198.51.100.140", "198.51.100.141", 25) == []


def test_without_the_appliance_s_netmask_the_laptop_s_prefix_decides():
    sheet = _sheet(("203.0.113.0/24", "198.51.100.254"))
    nothing_read = ApplianceState()
    assert cutting_routes(sheet, nothing_read, "203.0.113.40", "203.0.113.41", 24)
    assert cutting_routes(sheet, nothing_read, "203.0.113.40", "203.0.113.41", 25) == []
    # the factory network: no sane sheet routes it, and none is named
    assert cutting_routes(_sheet(("203.0.113.128/25", "198.51.100.254")), nothing_read,
                          "169.254.1.1", "169.254.1.254", 24) == []
