"""--manage-interfaces in a real lab: an address added over the web answers."""
from __future__ import annotations

import http.client
import ssl
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from hwprobe.appliance.pagemap import PAGES
from sim_helpers import Browser, error_of, table_rows

pytestmark = pytest.mark.lab
IP = PAGES["ip_config"]


def _addresses(ns: str, iface: str) -> str:
    return subprocess.run(["ip", "-n", ns, "-4", "addr", "show", "dev", iface],
                          capture_output=True, text=True).stdout


def _login_page_at(address: str, cert: str) -> str:
    # The certificate is verified, but it names only the factory addresses.
    ctx = ssl.create_default_context(cafile=cert)
    ctx.check_hostname = False
    conn = http.client.HTTPSConnection(address, 443, context=ctx, timeout=10)
    try:
        conn.request("GET", "/appliance/")
        return conn.getresponse().read().decode()
    finally:
        conn.close()


def test_address_added_over_the_web_answers_https_on_the_wire(make_lab):
    from simulator.lab import in_netns, netns_exec

    lab = make_lab()
    cert = str(Path(lab.state_dir) / "cert.pem")
    laptop = lab.laptop_ns
    assert netns_exec(laptop, ["ip", "addr", "add", "169.254.1.254/24", "dev", "lan0"]).returncode == 0
    assert "169.254.1.1/24" in _addresses(lab.appliance_ns, "nic1")

    with in_netns(laptop):
        b = Browser(SimpleNamespace(base=f"https://{lab.appliance_address}", cert=cert))
        b.ready()
        for fields in ({"nic": "nic1", "address": "198.51.100.20", "netmask": "255.255.255.0", "vlan": ""},
                       {"nic": "nic1", "address": "203.0.113.20", "netmask": "255.255.255.0", "vlan": "20"}):
            r = b.save(IP["path"], IP["add_action"], fields)
            assert r.status_code == 303, error_of(r)
        nics = table_rows(b.get(IP["path"]), IP["nic_table"])
    assert nics[0][:2] == ["nic1", lab.nic_macs["nic1"]]
    assert nics[1][:2] == ["nic2", lab.nic_macs["nic2"]]
    assert "198.51.100.20/24" in _addresses(lab.appliance_ns, "nic1")
    # on a kernel without 8021q (some containers) the tagged address goes on nic1 itself
    vlan_if = "nic1.20" if _addresses(lab.appliance_ns, "nic1.20") else "nic1"
    assert "203.0.113.20/24" in _addresses(lab.appliance_ns, vlan_if)

    assert netns_exec(laptop, ["ip", "addr", "add", "198.51.100.10/24", "dev", "lan0"]).returncode == 0
    with in_netns(laptop):
        assert "Login" in _login_page_at("198.51.100.20", cert)

    with in_netns(laptop):
        r = b.save(IP["path"], IP["delete_action"], {"nic": "nic1", "address": "203.0.113.20"})
        assert r.status_code == 303, error_of(r)
    assert "203.0.113.20" not in _addresses(lab.appliance_ns, vlan_if)
    assert _addresses(lab.appliance_ns, "nic1.20") == ""  # no VLAN interface left behind
    assert "198.51.100.20/24" in _addresses(lab.appliance_ns, "nic1")
