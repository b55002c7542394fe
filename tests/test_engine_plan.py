"""The plan: what differs between the appliance and the sheet, in a safe order."""
from hwprobe.procedure.engine import plan
from hwprobe.appliance.pagemap import PAGES
from hwprobe.appliance.state import ApplianceState, IpAddress, NicInfo, Route, Settings, SmtpSettings

FACTORY = IpAddress("nic1", "169.254.1.1", "255.255.255.0")


def sheet() -> Settings:
    return Settings(
        ips=[IpAddress("nic1", "198.51.100.20", "255.255.255.0")],
        hostname="support.example.net", default_gateway="198.51.100.1",
        dns_servers=["198.51.100.53"],
        routes=[Route("203.0.113.128/25", "198.51.100.254", "nic1")],
        ntp_servers=["198.51.100.123"], syslog_servers=["198.51.100.5"], syslog_format="rfc5424",
        smtp=SmtpSettings(relay="mail.example.net", port=587, encryption="starttls", auth="none",
                          from_address="bt@example.net", admin_contacts=["noc@example.net"]),
    )


def factory_state() -> ApplianceState:
    return ApplianceState(ips=[FACTORY], nics=[NicInfo("nic1", "02:00:00:00:00:01", True)])


def test_factory_appliance_needs_every_step_and_addresses_come_before_the_gateway():
    p = plan(factory_state(), sheet())
    keys = [s.key for s in p.changes]
    assert keys[0] == "ip:nic1:198.51.100.20"
    assert keys.index("gateway") > keys.index("ip:nic1:198.51.100.20")
    assert keys.index("route:203.0.113.128/25") > keys.index("ip:nic1:198.51.100.20")
    assert set(keys) >= {"gateway", "hostname", "dns", "ntp", "syslog", "smtp"}


def test_factory_address_is_left_alone_and_listed():
    p = plan(factory_state(), sheet())
    assert not any("169.254.1.1" in s.key for s in p.steps)
    assert p.extras == ["169.254.1.1 255.255.255.0 on NIC1"]


def test_appliance_that_matches_the_sheet_needs_nothing():
    s = sheet()
    state = ApplianceState(
        ips=[FACTORY, *s.ips], hostname="SUPPORT.example.net", default_gateway=s.default_gateway,
        dns_servers=list(s.dns_servers), routes=list(s.routes), ntp_servers=list(s.ntp_servers),
        syslog_servers=list(s.syslog_servers), syslog_format="rfc5424", smtp=s.smtp,
    )
    assert plan(state, s).changes == []


def test_smtp_password_is_sent_once_only_when_the_appliance_holds_none():
    s = sheet()
    s.smtp.auth, s.smtp.username = "password", "bt-alerts"
    state = ApplianceState(smtp=SmtpSettings(**{**s.smtp.__dict__, "password_set": False}))
    assert [x.key for x in plan(state, s, smtp_password_given=True).changes if x.key == "smtp"]
    state.smtp.password_set = True
    assert not [x for x in plan(state, s, smtp_password_given=True).changes if x.key == "smtp"]


def test_address_on_the_wrong_nic_is_a_change():
    s = sheet()
    state = ApplianceState(ips=[IpAddress("nic2", "198.51.100.20", "255.255.255.0")])
    step = plan(state, s).steps[0]
    assert step.changed and step.before["nic"] == "nic2" and step.after["nic"] == "nic1"


def test_request_discipline_check_flags_a_second_save_and_a_read_back_no_save_touched():
    from lab_helpers import request_discipline

    ip, glob = PAGES["ip_config"], PAGES["global_config"]
    clean = [f"GET {ip['path']}", f"POST {ip['add_action']}", f"POST {ip['add_action']}",
             f"POST {glob['action']}", f"GET {ip['path']}"]
    assert request_discipline(clean) == []
    assert request_discipline(clean + [f"POST {glob['action']}"]) == [
        f"{glob['action']} saved again"]
    assert request_discipline(clean + [f"GET {ip['path']}"]) == [
        f"{ip['path']} read again with no save in between"]
