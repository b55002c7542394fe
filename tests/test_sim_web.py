"""The simulated appliance's web interface, over real HTTPS on 127.0.0.1."""
from __future__ import annotations

import re
import time

import pytest
import requests

from hwprobe.appliance.pagemap import PAGES
from sim_helpers import (GOOD_PASSWORD, Sim, error_of, notice_of, table_rows,
                         value_of)

IP, GLOBAL, ROUTES = PAGES["ip_config"], PAGES["global_config"], PAGES["routes"]
SYSLOG, SMTP, NTP = PAGES["syslog"], PAGES["smtp"], PAGES["ntp"]
CHANGE = PAGES["change_password"]["path"]
BASICS = PAGES["status_basics"]["path"]


@pytest.fixture
def sim(tmp_path):
    s = Sim(tmp_path).start()
    yield s
    assert s.stop() == 0


@pytest.fixture(scope="module")
def ready_sim(tmp_path_factory):
    """One appliance, password already changed, shared by tests that leave its
    state as they found it (refused changes)."""
    s = Sim(tmp_path_factory.mktemp("sim")).start()
    b = s.browser().ready()
    yield s, b
    assert s.stop() == 0


def make_sim(tmp_path, *flags):
    return Sim(tmp_path, *flags).start()


def test_appliance_root_shows_login_page_without_login(sim):
    r = requests.get(sim.base + "/appliance/", verify=sim.cert, allow_redirects=False, timeout=10)
    assert r.status_code == 200
    assert "Login" in r.text
    assert f'name="{PAGES["common"]["csrf_field"]}"' in r.text
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie


def test_plain_http_redirects_to_https(sim):
    r = requests.get(f"http://127.0.0.1:{sim.ready['http_port']}/appliance/",
                     allow_redirects=False, timeout=10)
    assert r.status_code in (301, 302)
    assert r.headers["Location"] == f"{sim.base}/appliance/"


def test_first_login_must_change_password_before_any_page_opens(sim):
    b = sim.browser()
    r = b.login()
    assert r.status_code == 303 and r.headers["Location"].endswith(CHANGE)
    for path in (BASICS, IP["path"], ROUTES["path"], SYSLOG["page"], SMTP["page"],
                 PAGES["users"]["path"], PAGES["status_health"]["path"], "/appliance/"):
        r = b.get(path)
        assert r.status_code == 303 and r.headers["Location"].endswith(CHANGE), path
    before = sim.state()
    r = b.post(IP["add_action"], {"nic": "nic1", "address": "198.51.100.20",
                                  "netmask": "255.255.255.0", "vlan": ""})
    assert r.status_code == 303 and r.headers["Location"].endswith(CHANGE)
    assert sim.state() == before
    r = b.change_password("password", GOOD_PASSWORD)
    assert r.status_code == 303
    r = b.get(CHANGE)
    assert notice_of(r) == "Password changed."
    r = b.get(BASICS)
    assert r.status_code == 200 and value_of(r, "model") == "B400"


def test_password_breaking_the_rule_is_refused_with_the_reason(sim):
    b = sim.browser()
    b.login()
    r = b.change_password("password", "short1!")
    assert r.status_code == 200
    assert "Password refused" in error_of(r) and "at least 8 characters" in error_of(r)
    r = b.change_password("password", "Admin-12345")
    assert "must not contain the user name" in error_of(r)
    r = b.change_password("password", "lowercase-only1")
    assert "upper-case" in error_of(r)
    r = b.change_password("password", GOOD_PASSWORD, GOOD_PASSWORD + "x")
    assert "confirm_password" in error_of(r)
    assert sim.state()["users"] == [{"name": "admin", "must_change": True}]


def test_old_password_is_refused_after_the_change(sim):
    sim.browser().ready()
    r = sim.browser().login("admin", "password")
    assert r.status_code == 200 and "Invalid user name or password" in error_of(r)
    r = sim.browser().login("admin", GOOD_PASSWORD)
    assert r.status_code == 303 and r.headers["Location"].endswith(BASICS)


def test_five_bad_logins_lock_the_account_and_it_unlocks_later(tmp_path):
    sim = make_sim(tmp_path, "--lockout-seconds", "2")
    try:
        b = sim.browser()
        left = []
        for _ in range(4):
            r = b.login("admin", "wrong")
            left.append(int(re.search(PAGES["login"]["tries_left_pattern"], error_of(r)).group(1)))
        assert left == [4, 3, 2, 1]
        r = b.login("admin", "wrong")
        assert re.search(PAGES["login"]["locked_pattern"], error_of(r)).group(1) == "2"
        r = b.login("admin", "password")  # the right password, but locked
        assert r.status_code == 200 and "Account locked for" in error_of(r)
        from sim_helpers import wait_until
        wait_until(lambda: b.login("admin", "password").status_code == 303)
    finally:
        sim.stop()


def test_login_without_the_form_token_is_refused(sim):
    b = sim.browser()
    b.get("/appliance/login")
    r = b.post("/appliance/login", {"username": "admin", "password": "password"}, csrf="forged")
    assert r.status_code == 200 and error_of(r)
    assert sim.state()["users"][0]["must_change"] is True


def test_a_form_without_the_session_token_is_refused(sim):
    b = sim.browser().ready()
    before = sim.state()
    r = b.post(GLOBAL["action"], {"hostname": "support.example.net", "default_gateway": "",
                                  "dns_servers": ""}, csrf="forged")
    assert r.status_code == 403
    assert sim.state() == before


@pytest.mark.parametrize("page, action, fields, field", [
    (IP["path"], IP["add_action"],
     {"nic": "nic1", "address": "198.51.100.20", "netmask": "255.0.255.0", "vlan": ""}, "netmask"),
    (IP["path"], IP["add_action"],
     {"nic": "nic1", "address": "198.51.100.20", "netmask": "255.255.255.0", "vlan": "4095"}, "vlan"),
    (IP["path"], IP["add_action"],
     {"nic": "nic3", "address": "198.51.100.20", "netmask": "255.255.255.0", "vlan": ""}, "nic"),
    (IP["path"], IP["add_action"],
     {"nic": "nic2", "address": "169.254.1.1", "netmask": "255.255.255.0", "vlan": ""}, "address"),
    (IP["path"], IP["add_action"],
     {"nic": "nic1", "address": "198.51.100.256", "netmask": "255.255.255.0", "vlan": ""}, "address"),
    (IP["path"], GLOBAL["action"],
     {"hostname": "support.example.net", "default_gateway": "203.0.113.1",
      "dns_servers": "198.51.100.53"}, "default_gateway"),
    (IP["path"], GLOBAL["action"],
     {"hostname": "-bad-.example.net", "default_gateway": "", "dns_servers": ""}, "hostname"),
    (IP["path"], GLOBAL["action"],
     {"hostname": "support.example.net", "default_gateway": "",
      "dns_servers": "198.51.100.1\n198.51.100.2\n198.51.100.3\n198.51.100.4"}, "dns_servers"),
    (SYSLOG["page"], SYSLOG["action"],
     {"syslog_servers": "\n".join(f"198.51.100.{i}" for i in range(1, 12)), "syslog_format": "bsd"},
     "syslog_servers"),
    (SYSLOG["page"], SYSLOG["action"],
     {"syslog_servers": "198.51.100.5", "syslog_format": "json"}, "syslog_format"),
    (SMTP["page"], SMTP["action"],
     {"relay": "mail.example.net", "port": "70000", "encryption": "starttls", "auth": "none",
      "smtp_username": "", "smtp_password": "", "from_address": "bt@example.net",
      "admin_contacts": "noc@example.net"}, "port"),
    (SMTP["page"], SMTP["action"],
     {"relay": "mail.example.net", "port": "587", "encryption": "starttls", "auth": "password",
      "smtp_username": "", "smtp_password": "S3cret!x", "from_address": "bt@example.net",
      "admin_contacts": "noc@example.net"}, "smtp_username"),
    (SMTP["page"], SMTP["action"],
     {"relay": "mail.example.net", "port": "587", "encryption": "ssl", "auth": "none",
      "smtp_username": "", "smtp_password": "", "from_address": "not-an-address",
      "admin_contacts": "noc@example.net"}, "from_address"),
    (ROUTES["path"], ROUTES["add_action"],
     {"destination": "203.0.113.0/24", "gateway": "198.51.100.254", "nic": "nic1"}, "gateway"),
    (ROUTES["path"], ROUTES["add_action"],
     {"destination": "203.0.113.1/24", "gateway": "169.254.1.9", "nic": "nic1"}, "destination"),
    (BASICS, NTP["action"], {"ntp_servers": "ntp..example.net"}, "ntp_servers"),
])
def test_bad_value_is_refused_with_its_field_and_nothing_is_half_saved(ready_sim, page, action, fields, field):
    sim, b = ready_sim
    before = sim.state()
    r = b.save(page, action, fields)
    assert r.status_code == 200
    assert error_of(r).startswith(f"{field}:") or f"; {field}:" in error_of(r), error_of(r)
    assert sim.state() == before
    assert sim.stats()["saved"].get(f"POST {action}", 0) == 0


def test_saved_settings_show_on_the_pages_and_survive_a_restart(sim):
    b = sim.browser().ready()
    ok = [
        b.save(IP["path"], IP["add_action"], {"nic": "nic1", "address": "198.51.100.20",
                                              "netmask": "255.255.255.0", "vlan": ""}),
        b.save(IP["path"], IP["add_action"], {"nic": "nic2", "address": "203.0.113.20",
                                              "netmask": "255.255.255.128", "vlan": "20"}),
        b.save(IP["path"], GLOBAL["action"], {"hostname": "support.example.net",
                                              "default_gateway": "198.51.100.1",
                                              "dns_servers": "198.51.100.53\n203.0.113.53"}),
        b.save(ROUTES["path"], ROUTES["add_action"], {"destination": "203.0.113.128/25",
                                                      "gateway": "198.51.100.254", "nic": "nic1"}),
        b.save(BASICS, NTP["action"], {"ntp_servers": "198.51.100.123\nntp.example.net"}),
        b.save(SYSLOG["page"], SYSLOG["action"], {"syslog_servers": "198.51.100.5",
                                                  "syslog_format": "bsd"}),
        b.save(SMTP["page"], SMTP["action"], {
            "relay": "mail.example.net", "port": "587", "encryption": "starttls",
            "auth": "password", "smtp_username": "bt-alerts", "smtp_password": "Sm7p-secret!",
            "from_address": "bt-alerts@example.net", "admin_contacts": "noc@example.net"}),
    ]
    assert [r.status_code for r in ok] == [303] * len(ok), [error_of(r) for r in ok]
    saved = sim.state()
    sim.restart()
    assert sim.state() == saved
    b = sim.browser()
    assert b.login("admin", GOOD_PASSWORD).status_code == 303
    r = b.get(IP["path"])
    assert table_rows(r, IP["address_table"]) == [
        ["nic1", "169.254.1.1", "255.255.255.0", ""],
        ["nic1", "198.51.100.20", "255.255.255.0", ""],
        ["nic2", "203.0.113.20", "255.255.255.128", "20"]]
    assert [row[0] for row in table_rows(r, IP["nic_table"])] == ["nic1", "nic2"]
    assert '<textarea id="f-dns_servers" name="dns_servers" rows="4" cols="40">198.51.100.53\n203.0.113.53<' in r.text
    assert 'name="default_gateway" value="198.51.100.1"' in r.text
    r = b.get(ROUTES["path"])
    assert table_rows(r, ROUTES["table"]) == [["203.0.113.128/25", "198.51.100.254", "nic1"]]
    r = b.get(SMTP["page"])
    assert value_of(r, SMTP["password_set"]) == "yes"
    assert "Sm7p-secret!" not in r.text
    assert "Sm7p-secret!" not in (sim.dir / "state.json").read_text()
    assert "Sm7p-secret!" not in (sim.dir / "sim.log").read_text()


def test_saving_shows_a_notice_once_after_the_redirect(sim):
    b = sim.browser().ready()
    r = b.save(IP["path"], GLOBAL["action"], {"hostname": "support.example.net",
                                              "default_gateway": "", "dns_servers": ""})
    assert r.status_code == 303 and r.headers["Location"].endswith(IP["path"])
    assert notice_of(b.get(IP["path"])) == "Global configuration saved."
    assert notice_of(b.get(IP["path"])) == ""


def test_deleting_an_ip_that_carries_the_gateway_is_refused(sim):
    b = sim.browser().ready()
    b.save(IP["path"], IP["add_action"], {"nic": "nic1", "address": "198.51.100.20",
                                          "netmask": "255.255.255.0", "vlan": ""})
    b.save(IP["path"], GLOBAL["action"], {"hostname": "", "default_gateway": "198.51.100.1",
                                          "dns_servers": ""})
    before = sim.state()
    r = b.save(IP["path"], IP["delete_action"], {"nic": "nic1", "address": "198.51.100.20"})
    assert r.status_code == 200 and error_of(r).startswith("default_gateway:")
    assert sim.state() == before
    r = b.save(IP["path"], IP["delete_action"], {"nic": "nic1", "address": "169.254.1.1"})
    assert r.status_code == 303
    assert [ip["address"] for ip in sim.state()["ips"]] == ["198.51.100.20"]


def test_route_can_be_deleted(sim):
    b = sim.browser().ready()
    b.save(ROUTES["path"], ROUTES["add_action"], {"destination": "203.0.113.0/24",
                                                  "gateway": "169.254.1.9", "nic": "nic1"})
    assert len(sim.state()["routes"]) == 1
    r = b.save(ROUTES["path"], ROUTES["delete_action"], {"destination": "203.0.113.0/24"})
    assert r.status_code == 303 and sim.state()["routes"] == []


def test_send_test_email_answers_a_notice(sim):
    b = sim.browser().ready()
    r = b.save(SMTP["page"], SMTP["test_action"], {})
    assert r.status_code == 200 and error_of(r).startswith("relay:")
    b.save(SMTP["page"], SMTP["action"], {
        "relay": "mail.example.net", "port": "25", "encryption": "none", "auth": "none",
        "smtp_username": "", "smtp_password": "", "from_address": "bt@example.net",
        "admin_contacts": "noc@example.net\nops@example.net"})
    r = b.save(SMTP["page"], SMTP["test_action"], {})
    assert r.status_code == 303
    assert "noc@example.net, ops@example.net" in notice_of(b.get(SMTP["page"]))


def test_idle_session_ends_and_sends_the_browser_to_login(tmp_path):
    sim = make_sim(tmp_path, "--session-idle", "1")
    try:
        b = sim.browser().ready()
        assert b.get(BASICS).status_code == 200
        time.sleep(1.5)  # idle longer than --session-idle
        r = b.get(BASICS)
        assert r.status_code == 303
        assert r.headers["Location"].endswith("/appliance/login?expired=1")
        assert "session has ended" in notice_of(b.get("/appliance/login?expired=1"))
    finally:
        sim.stop()


def test_factory_reset_brings_back_the_factory_state(tmp_path):
    sim = make_sim(tmp_path, "--answers-on", "both", "--factory-address", "169.254.1.3")
    try:
        sim.browser().ready()
        assert sim.state()["users"][0]["must_change"] is False
        sim.restart("--factory-reset")
        st = sim.state()
        assert st["users"] == [{"name": "admin", "must_change": True}]
        assert [(ip["nic"], ip["address"]) for ip in st["ips"]] == [
            ("nic1", "169.254.1.3"), ("nic2", "169.254.1.3")]
        assert st["hostname"] == st["default_gateway"] == "" and st["dns_servers"] == []
        assert sim.browser().login().headers["Location"].endswith(CHANGE)
    finally:
        sim.stop()


def test_every_menu_page_is_reachable_from_the_nav(sim):
    b = sim.browser().ready()
    r = b.get(BASICS)
    links = re.findall(r'<nav>.*?</nav>', r.text, re.S)[0]
    for section in PAGES["menu"]:
        assert section in links
    for path in re.findall(r'href="([^"]+)"', links):
        if path.endswith("/logout"):
            continue
        assert b.get(path).status_code == 200, path
    assert value_of(b.get(PAGES["status_health"]["path"]), "health") == "OK"


def test_logout_ends_the_session(sim):
    b = sim.browser().ready()
    r = b.get(PAGES["logout"]["path"])
    assert r.status_code == 303
    r = b.get(BASICS)
    assert r.status_code == 303 and "/appliance/login" in r.headers["Location"]


def test_global_form_field_left_out_keeps_its_value_and_blank_clears_it(sim):
    b = sim.browser().ready()
    b.save(IP["path"], GLOBAL["action"], {"hostname": "support.example.net",
                                          "default_gateway": "169.254.1.9",
                                          "dns_servers": "198.51.100.53"})
    assert b.save(IP["path"], GLOBAL["action"], {"hostname": "new.example.net"}).status_code == 303
    st = sim.state()
    assert (st["hostname"], st["default_gateway"], st["dns_servers"]) == (
        "new.example.net", "169.254.1.9", ["198.51.100.53"])
    b.save(IP["path"], GLOBAL["action"], {"dns_servers": ""})
    assert sim.state()["dns_servers"] == []
