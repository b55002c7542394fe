"""The web driver against the simulated appliance: real HTTPS on 127.0.0.1."""
from __future__ import annotations

import logging
import socket

import pytest

from hwprobe.appliance.connect import connect_web

from hwprobe.appliance import html
from hwprobe.appliance.pinning import normalize_fingerprint
from hwprobe.appliance.web import WebDriver
from hwprobe.errors import (
    ApplianceError, CertificateChanged, LockedOut, LoginFailed, PasswordRefused, SessionExpired,
    Unreachable, ValidationRefused,
)
from hwprobe.appliance.state import IpAddress, Route, SmtpSettings
from area_helpers import read_state, send
from simfixture import make_sim, sim  # noqa: F401  (fixtures)

NEW = "Tr4il-Head!"
SMTP_SECRET = "Sm7p-Secret!"
IP = IpAddress("nic1", "198.51.100.20", "255.255.255.0")


def driver(sim, **kw) -> WebDriver:
    kw.setdefault("use_journal", False)
    kw.setdefault("retry_delay", 0.2)
    return connect_web("127.0.0.1", sim.https_port, **kw)


@pytest.fixture
def web(sim):
    """A driver logged in to the simulator, the factory password already changed."""
    d = driver(sim)
    assert d.login("admin", "password").change_required
    d.change_password("password", NEW)
    yield d
    d.close()


# --- login and password --------------------------------------------------------------

def test_first_login_detects_change_required_and_the_new_password_sticks(sim):
    with driver(sim) as d:
        result = d.login("admin", "password")
        assert result.change_required
        d.change_password("password", NEW)
        assert read_state(d).model == "B400"
    assert sim.state()["users"] == [{"name": "admin", "must_change": False}]
    with driver(sim) as d:
        with pytest.raises(LoginFailed):
            d.login("admin", "password")
        assert d.login("admin", NEW).change_required is False


def test_wrong_password_says_how_many_tries_remain(sim):
    with driver(sim) as d:
        with pytest.raises(LoginFailed) as first:
            d.login("admin", "Wrong-0ne!")
        with pytest.raises(LoginFailed) as second:
            d.login("admin", "Wrong-0ne!")
    assert (first.value.tries_left, second.value.tries_left) == (4, 3)
    assert "3 attempts remaining" in str(second.value)
    assert not isinstance(second.value, LockedOut)


def test_too_many_wrong_passwords_lock_the_account_even_for_the_right_one(make_sim):
    sim = make_sim("--lockout-attempts", "2", "--lockout-seconds", "120")
    with driver(sim) as d:
        with pytest.raises(LoginFailed) as first:
            d.login("admin", "Wrong-0ne!")
        with pytest.raises(LockedOut) as locked:
            d.login("admin", "Wrong-0ne!")
        with pytest.raises(LockedOut) as still:
            d.login("admin", "password")
    assert first.value.tries_left == 1
    assert locked.value.seconds == 120 and locked.value.tries_left == 0
    assert 0 < still.value.seconds <= 120


def test_weak_new_password_is_refused_with_the_rule_and_not_echoed(sim):
    with driver(sim) as d:
        d.login("admin", "password")
        with pytest.raises(PasswordRefused) as refused:
            d.change_password("password", "weakpass")
    message = str(refused.value)
    assert "must contain an upper-case letter" in message and "must contain a digit" in message
    assert "weakpass" not in message
    assert sim.state()["users"][0]["must_change"] is True


def test_passwords_never_reach_logs_or_error_messages(sim, caplog):
    caplog.set_level(logging.DEBUG)
    with driver(sim) as d:
        with pytest.raises(LoginFailed) as failed:
            d.login("admin", "Wr0ng-Secret!")
        d.login("admin", "password")
        d.change_password("password", NEW)
        send(d, "smtp", smtp=SmtpSettings(relay="mail.example.net", auth="password",
                                          username="bt"), smtp_password=SMTP_SECRET)
    text = caplog.text + str(failed.value)
    for secret in ("Wr0ng-Secret!", NEW, SMTP_SECRET):
        assert secret not in text
    assert "POST /appliance/login" in caplog.text     # the log did record the requests


# --- reading and changing -------------------------------------------------------------

@pytest.mark.filterwarnings("error")     # no InsecureRequestWarning: every connection is pinned
def test_every_setting_reads_back_as_set(web, sim):
    send(web, "ip", ips=[IP])
    send(web, "ip", ips=[IpAddress("nic2", "203.0.113.10", "255.255.255.128", vlan=20)])
    send(web, "gateway", default_gateway="198.51.100.1")
    send(web, "dns", dns_servers=["198.51.100.53", "203.0.113.53"])
    send(web, "hostname", hostname="support.example.net")
    send(web, "routes", routes=[Route("203.0.113.128/25", "198.51.100.254", "nic1")])
    send(web, "ntp", ntp_servers=["198.51.100.123", "ntp.example.net"])
    send(web, "syslog", syslog_servers=["198.51.100.5", "198.51.100.6"], syslog_format="bsd")
    smtp = SmtpSettings(relay="mail.example.net", port=587, encryption="starttls",
                        auth="password", username="bt-alerts",
                        from_address="bt-alerts@example.net", admin_contacts=["noc@example.net"])
    send(web, "smtp", smtp=smtp, smtp_password=SMTP_SECRET)
    state = read_state(web)

    assert IP in state.ips and IpAddress("nic2", "203.0.113.10", "255.255.255.128", 20) in state.ips
    assert (state.default_gateway, state.dns_servers, state.hostname) == (
        "198.51.100.1", ["198.51.100.53", "203.0.113.53"], "support.example.net")
    assert state.routes == [Route("203.0.113.128/25", "198.51.100.254", "nic1")]
    assert state.ntp_servers == ["198.51.100.123", "ntp.example.net"]
    assert (state.syslog_servers, state.syslog_format) == (["198.51.100.5", "198.51.100.6"], "bsd")
    smtp.password_set = True
    assert state.smtp == smtp
    assert (state.model, state.serial, state.software_version) == ("B400", "B400-0012345", "7.1.2")
    truth = sim.state()
    assert [(n.name, n.mac, n.link) for n in state.nics] == [
        (n["nic"], n["mac"], n["link"]) for n in truth["nics"]]
    assert {(i.nic, i.address, i.netmask, i.vlan) for i in state.ips} == {
        (i["nic"], i["address"], i["netmask"], i["vlan"]) for i in truth["ips"]}

    web.remove_row("routes", "table", {"destination": state.routes[0].destination}, "destination")
    send(web, "gateway", default_gateway="")
    web.remove_row("ip_config", "address_table", {"nic": IP.nic, "address": IP.address}, "address")
    after = read_state(web)
    assert after.routes == [] and IP not in after.ips and after.default_gateway == ""
    assert after.hostname == "support.example.net"      # the other global values kept


def test_smtp_password_is_kept_when_none_is_given(web):
    smtp = SmtpSettings(relay="mail.example.net", auth="password", username="bt")
    send(web, "smtp", smtp=smtp, smtp_password=SMTP_SECRET)
    smtp.relay = "relay.example.net"
    send(web, "smtp", smtp=smtp)
    state = read_state(web)
    assert state.smtp.relay == "relay.example.net" and state.smtp.password_set


def test_refused_value_raises_with_the_appliance_message_and_changes_nothing(web, sim):
    before = sim.state()
    with pytest.raises(ValidationRefused) as refused:
        send(web, "gateway", default_gateway="203.0.113.1")
    assert refused.value.field == "default_gateway"
    assert refused.value.page == "Networking > IP Configuration"
    assert "203.0.113.1 is not in any configured subnet" in str(refused.value)
    with pytest.raises(ValidationRefused) as bad_ip:
        send(web, "ip", ips=[IpAddress("nic1", "198.51.100.300", "255.255.255.0")])
    assert bad_ip.value.field == "address" and "not an IPv4 address" in str(bad_ip.value)
    assert sim.state() == before


def test_one_refused_value_of_the_shared_global_save_fails_only_its_own_step(web, sim):
    from hwprobe.procedure.engine import Engine
    from hwprobe.appliance.state import Settings

    settings = Settings(hostname="support.example.net", default_gateway="203.0.113.1",
                        dns_servers=["198.51.100.53"])
    result = Engine(web, settings).run()
    steps = {s.key: s for s in result.steps}
    assert {k: s.status for k, s in steps.items()} == {
        "gateway": "failed", "hostname": "verified", "dns": "verified"}
    assert "203.0.113.1 is not in any configured subnet" in steps["gateway"].message
    st = sim.state()
    assert (st["hostname"], st["dns_servers"], st["default_gateway"]) == (
        "support.example.net", ["198.51.100.53"], "")


def test_send_test_email_returns_the_notice_or_the_refusal(web):
    with pytest.raises(ValidationRefused, match="no SMTP relay is configured"):
        web.send_test_email()
    send(web, "smtp", smtp=SmtpSettings(relay="mail.example.net", admin_contacts=["noc@example.net"]))
    assert web.send_test_email() == "Test email sent to noc@example.net via mail.example.net:25"


# --- sessions, faults and certificates ---------------------------------------------------

def test_expired_session_is_recovered_transparently(web, sim):
    sim.fault("expire_sessions")
    send(web, "hostname", hostname="support.example.net")
    assert sim.state()["hostname"] == "support.example.net"
    stats = sim.stats()
    assert stats["saved"]["POST /appliance/login"] == 2       # logged in again, once
    assert stats["changes"]["set_global"] == 1                 # and saved once


def test_expired_session_with_a_password_changed_elsewhere_raises_session_expired(web, sim):
    with driver(sim) as other:
        other.login("admin", NEW)
        other.change_password(NEW, "An0ther-Pass!")
    sim.fault("expire_sessions")
    with pytest.raises(SessionExpired, match="logging in again failed"):
        send(web, "hostname", hostname="support.example.net")
    assert sim.state()["hostname"] == ""


def test_http_500_names_the_page(web, sim):
    sim.fault("http500", "/appliance/networking/routes")
    with pytest.raises(ApplianceError, match="the appliance answered 500 on Networking > Static Routes"):
        read_state(web)


def test_dropped_get_is_retried_once(web, sim):
    sim.fault("drop_after", 0)
    assert read_state(web).model == "B400"
    assert sim.stats()["dropped"] == 1


def test_dropped_post_is_never_sent_again_and_says_it_was_not_applied(web, sim):
    sim.fault("drop_after", 1)              # the page is answered, the POST is dropped
    with pytest.raises(Unreachable) as dropped:
        send(web, "ip", ips=[IP])
    assert dropped.value.applied is False
    assert "was NOT applied" in str(dropped.value)
    stats = sim.stats()
    assert stats["requests"]["POST /appliance/networking/ip/add"] == 1
    assert all(ip["address"] != IP.address for ip in sim.state()["ips"])
    send(web, "ip", ips=[IP])               # the caller may now send it again
    assert IP in read_state(web).ips


def test_nothing_listening_is_unreachable_naming_the_address():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(Unreachable, match=rf"127\.0\.0\.1:{port} did not answer HTTPS \(connection refused\)"):
        connect_web("127.0.0.1", port, use_journal=False)


def test_changed_certificate_stops_a_new_connection(sim):
    seen = []
    with driver(sim, on_first_use=seen.append) as d:
        pinned = d.fingerprint
    assert normalize_fingerprint(seen[0]) == sim.fingerprint == normalize_fingerprint(pinned)
    sim.fault("new_certificate")
    with pytest.raises(CertificateChanged) as changed:
        driver(sim, pinned_fingerprint=pinned)
    assert changed.value.expected == pinned and changed.value.got != pinned
    assert "--trust-new-certificate" in str(changed.value)
    with driver(sim, pinned_fingerprint=pinned, trust_new_certificate=True) as d:
        assert d.fingerprint == changed.value.got


def test_changed_certificate_mid_run_is_caught_on_the_next_connection(web, sim):
    sim.fault("new_certificate")
    sim.fault("drop_after", 0)              # the kept-alive connection goes; a new one is made
    with pytest.raises(CertificateChanged):
        read_state(web)


def test_certificate_is_pinned_in_the_journal_on_first_use(sim, state_dir):
    from hwprobe.appliance import pins

    with driver(sim, use_journal=True) as d:
        assert d.first_use
    where = f"127.0.0.1:{sim.https_port}"
    assert pins.pinned_fingerprint(where) == sim.fingerprint
    with driver(sim, use_journal=True) as d:
        assert not d.first_use
    sim.fault("new_certificate")
    with pytest.raises(CertificateChanged):
        driver(sim, use_journal=True)


# --- the page reader --------------------------------------------------------------------------

def test_page_reader_reads_forms_tables_and_messages():
    page = html.parse("""<html><body><p class="error big">address: bad</p>
      <table id="t"><tr><th>a</th><th>b</th></tr><tr><td>1<td> x  y </tr><tr><td>2</td><td></td></tr></table>
      <span id="model">B400</span>
      <form method="post" action="/save?x=1"><input type="hidden" name="csrf_token" value="tok">
        <textarea name="dns">
198.51.100.53
203.0.113.53</textarea>
        <select name="fmt"><option value="rfc5424">RFC</option><option value="bsd" selected>BSD</option></select>
        <input type="checkbox" name="on" value="1"><input type="submit" name="go" value="Save">
        <input name="plain"></form></body></html>""")
    assert [e.text for e in page.by_class("error")] == ["address: bad"]
    assert page.table("t") == [["1", "x y"], ["2", ""]]
    assert page.table("missing") is None
    assert page.text_of("model") == "B400"
    form = page.form("/save")
    assert form.method == "post"
    assert form.fields == {"csrf_token": "tok", "dns": "198.51.100.53\n203.0.113.53",
                           "fmt": "bsd", "plain": ""}
    assert html.lines(form.fields["dns"]) == ["198.51.100.53", "203.0.113.53"]


# --- the newer firmware's layout (issue 13) -------------------------------------------------

def test_newer_firmware_layout_each_syslog_server_its_port_and_format_and_email_test_on_save(
        make_sim):
    from hwprobe.appliance.state import SyslogServer

    sim = make_sim("--firmware", "current")
    with driver(sim) as d:
        d.login("admin", "password")
        d.change_password("password", NEW)
        assert read_state(d).software_version == "24.1.1" and d.profile == "current"
        each = [SyslogServer("198.51.100.5", 6514, "tls"), SyslogServer("198.51.100.6", 514, "bsd")]
        send(d, "syslog", syslog_servers=["198.51.100.5", "198.51.100.6"],
             syslog_format="rfc5424", syslog_each=each)
        # no authentication selector: the user name filled in is the login
        send(d, "smtp", smtp=SmtpSettings(relay="mail.example.net", port=465, encryption="ssl",
                                          auth="password", username="bt-alerts",
                                          from_address="bt-alerts@example.net",
                                          admin_contacts=["noc@example.net"]),
             smtp_password=SMTP_SECRET)
        state = read_state(d)
        assert state.syslog_each == each and state.syslog_format is None
        assert (state.smtp.encryption, state.smtp.auth, state.smtp.password_set) == \
            ("ssl", "password", True)
        # no test button: the form is saved as it is with "send a test e-mail" ticked
        assert d.send_test_email() == ("Email configuration saved. Test email sent to "
                                       "noc@example.net via mail.example.net:465")
        with pytest.raises(ValidationRefused, match="takes 3 syslog servers; 4 were given"):
            send(d, "syslog", syslog_servers=[f"198.51.100.{n}" for n in range(5, 9)],
                 syslog_format="bsd")
    assert sim.state()["syslog_targets"][0]["port"] == 6514
