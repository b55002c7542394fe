"""Every fault switch of the simulated appliance does what it says."""
from __future__ import annotations

import hashlib
import ssl
import time

import pytest
import requests

from hwprobe.appliance.pagemap import PAGES
from sim_helpers import Sim, error_of, wait_until

IP = PAGES["ip_config"]
BASICS = PAGES["status_basics"]["path"]
LOGIN = PAGES["login"]["path"]


@pytest.fixture
def sim(tmp_path):
    s = Sim(tmp_path).start()
    yield s
    s.stop()


def fingerprint(sim) -> str:
    pem = ssl.get_server_certificate(("127.0.0.1", sim.ready["https_port"]))
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def test_drop_after_answers_n_requests_then_drops_one_connection(sim):
    b = sim.browser()
    sim.fault("drop_after", 2)
    assert b.get(LOGIN).status_code == 200
    assert b.get(LOGIN).status_code == 200
    with pytest.raises(requests.ConnectionError):
        b.get(LOGIN)
    assert b.get(LOGIN).status_code == 200  # the switch is off again
    assert sim.stats()["dropped"] == 1


def test_http500_fails_only_the_named_page_until_cleared(sim):
    b = sim.browser().ready()
    sim.fault("http500", IP["path"])
    assert b.get(IP["path"]).status_code == 500
    assert b.get(BASICS).status_code == 200
    sim.fault("http500", None)
    assert b.get(IP["path"]).status_code == 200


def test_http500_on_an_action_saves_nothing(sim):
    b = sim.browser().ready()
    sim.fault("http500", IP["add_action"])
    before = sim.state()
    r = b.save(IP["path"], IP["add_action"], {"nic": "nic1", "address": "198.51.100.20",
                                              "netmask": "255.255.255.0", "vlan": ""})
    assert r.status_code == 500
    assert sim.state() == before


def test_delay_slows_every_answer(sim):
    b = sim.browser()
    sim.fault("delay", 0.6)
    started = time.monotonic()
    assert b.get(LOGIN).status_code == 200
    assert time.monotonic() - started >= 0.6
    assert sim.state()  # the control channel itself is not delayed


def test_expire_sessions_sends_a_logged_in_browser_back_to_login(sim):
    b = sim.browser().ready()
    assert b.get(BASICS).status_code == 200
    sim.fault("expire_sessions")
    r = b.get(BASICS)
    assert r.status_code == 303 and r.headers["Location"].endswith(LOGIN + "?expired=1")


def test_reboot_goes_silent_then_comes_back_without_sessions(sim):
    b = sim.browser().ready()
    port = sim.ready["https_port"]
    sim.fault("reboot", 1.5)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{sim.base}{LOGIN}", verify=sim.cert, timeout=5)
    assert sim.stats()["faults"]["rebooting"] is True
    wait_until(lambda: _answers(sim))
    assert sim.ready["https_port"] == port
    r = b.get(BASICS)
    assert r.status_code == 303 and LOGIN in r.headers["Location"]


def _answers(sim) -> bool:
    try:
        s = requests.Session()
        s.trust_env = False
        return s.get(f"{sim.base}{LOGIN}", verify=sim.cert, timeout=5).status_code == 200
    except requests.ConnectionError:
        return False


def test_new_certificate_changes_the_fingerprint_for_new_connections(sim):
    old = fingerprint(sim)
    assert old == sim.ready["fingerprint"]
    old_cert = sim.dir / "old-cert.pem"
    old_cert.write_bytes((sim.dir / "cert.pem").read_bytes())
    assert sim.fault("new_certificate")["ok"]
    new = fingerprint(sim)
    assert new != old
    s = requests.Session()
    s.trust_env = False
    with pytest.raises(requests.exceptions.SSLError):
        s.get(sim.base + LOGIN, verify=str(old_cert), timeout=5)
    assert s.get(sim.base + LOGIN, verify=sim.cert, timeout=5).status_code == 200
    sim.restart()
    assert fingerprint(sim) == new  # the new certificate is kept


def test_clear_turns_every_switch_off(sim):
    sim.fault("delay", 0.2)
    sim.fault("http500", LOGIN)
    sim.fault("drop_after", 0)
    sim.fault("large_backup", 1000)
    sim.fault("backup_rate", 1000)
    sim.fault("upload_rate", 1000)
    sim.fault("install_seconds", 1)
    sim.fault("update_server", True)
    answer = sim.fault("clear")
    # the finish's lab settings go back to what the simulator was started with
    assert answer["faults"] == {"drop_after": None, "http500": [], "delay": 0.0, "rebooting": False,
                                "large_backup": 0, "backup_rate": 0.0, "upload_rate": 0.0,
                                "install_seconds": 20.0, "update_server": False,
                                "login_restart": 3.0}
    assert sim.browser().get(LOGIN).status_code == 200


def test_faults_can_be_set_at_start(tmp_path):
    sim = Sim(tmp_path).start("--fault", f"http500={LOGIN}", "--fault", "delay=0.1")
    try:
        assert sim.browser().get(LOGIN).status_code == 500
        assert sim.stats()["faults"]["delay"] == 0.1
    finally:
        sim.stop()


def test_stats_count_each_saved_form_once(sim):
    b = sim.browser().ready()
    fields = {"nic": "nic1", "address": "198.51.100.20", "netmask": "255.255.255.0", "vlan": ""}
    assert b.save(IP["path"], IP["add_action"], fields).status_code == 303
    r = b.save(IP["path"], IP["add_action"], fields)
    assert "already configured" in error_of(r)
    stats = sim.stats()
    assert stats["requests"][f"POST {IP['add_action']}"] == 2
    assert stats["saved"][f"POST {IP['add_action']}"] == 1
    assert stats["changes"]["add_ip"] == 1


def test_control_channel_refuses_an_unknown_fault(sim):
    with pytest.raises(RuntimeError, match="unknown fault"):
        sim.fault("melt")
    with pytest.raises(RuntimeError, match="drop_after"):
        sim.fault("drop_after", -1)
