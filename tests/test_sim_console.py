"""The simulated appliance's local console, on a real pty opened with pyserial."""
from __future__ import annotations

import time

import pytest
import serial

from hwprobe.appliance.pagemap import CONSOLE as K, PAGES
from sim_helpers import GOOD_PASSWORD, Sim, table_rows

IP = PAGES["ip_config"]


class Terminal:
    """The technician's end of the serial cable."""

    def __init__(self, path: str):
        self.port = serial.Serial(path, 115200, timeout=0.1)
        self.seen = ""

    def close(self) -> None:
        self.port.close()

    def expect(self, text: str, timeout: float = 10.0) -> str:
        """Read until ``text`` appears; returns everything up to and including it."""
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            if time.monotonic() > deadline:
                raise AssertionError(f"console never showed {text!r}; it showed {self.seen[-500:]!r}")
            self.seen += self.port.read(4096).decode(errors="replace")
        head, _, self.seen = self.seen.partition(text)
        return head + text

    def send(self, line: str) -> None:
        self.port.write(line.encode() + b"\r")

    def answer(self, prompt: str, line: str) -> str:
        out = self.expect(prompt)
        self.send(line)
        return out

    def choose(self, item: str) -> None:
        self.answer(K["menu_prompt"], str(K[item]))

    def block(self) -> list[str]:
        """A multi-line answer, up to the end marker."""
        text = self.expect(K["end_marker"])
        return [l for l in text.replace("\r", "").split("\n") if l.strip()][:-1]

    def login(self, user: str, password: str) -> None:
        self.send("")
        self.answer(K["login_prompt"], user)
        self.answer(K["password_prompt"], password)


@pytest.fixture
def sim(tmp_path):
    s = Sim(tmp_path).start()
    yield s
    s.stop()


@pytest.fixture
def term(sim):
    t = Terminal(sim.console_link)
    yield t
    t.close()


def first_login(term: Terminal) -> None:
    term.login("admin", "password")
    term.expect(K["change_required"])
    term.answer(K["new_password_prompt"], GOOD_PASSWORD)
    term.answer(K["confirm_password_prompt"], GOOD_PASSWORD)
    term.expect(K["ok"] + "\r\n")


def test_console_changes_show_on_the_web_side(sim, term):
    first_login(term)
    term.choose("add_ip")
    term.answer(K["nic_prompt"], "nic1")
    term.answer(K["address_prompt"], "198.51.100.20")
    term.answer(K["netmask_prompt"], "255.255.255.0")
    term.answer(K["vlan_prompt"], "")
    assert term.expect(K["ok"] + "\r\n")
    term.choose("set_gateway")
    term.answer(K["gateway_prompt"], "198.51.100.1")
    term.expect(K["ok"] + "\r\n")
    term.choose("set_dns")
    term.answer(K["dns_prompt"], "198.51.100.53, 203.0.113.53")
    term.expect(K["ok"] + "\r\n")
    term.choose("set_hostname")
    term.answer(K["hostname_prompt"], "support.example.net")
    term.expect(K["ok"] + "\r\n")
    term.choose("show_network")
    lines = term.block()
    net = [l for l in lines if not l.startswith(f"{K['menu_prompt']}")]
    assert "hostname: support.example.net" in net
    assert "default gateway: 198.51.100.1" in net
    assert "dns servers: 198.51.100.53, 203.0.113.53" in net
    assert "ip: nic1 198.51.100.20 255.255.255.0 vlan=-" in net
    assert any(l.startswith("nic1: mac=02:") and l.endswith("link=yes") for l in net)

    b = sim.browser()
    assert b.login("admin", GOOD_PASSWORD).status_code == 303  # the console's new password
    r = b.get(IP["path"])
    assert ["nic1", "198.51.100.20", "255.255.255.0", ""] in table_rows(r, IP["address_table"])
    assert 'name="default_gateway" value="198.51.100.1"' in r.text
    assert sim.state()["hostname"] == "support.example.net"


def test_console_does_not_echo_the_password(term):
    term.send("")
    term.answer(K["login_prompt"], "admin")
    term.answer(K["password_prompt"], "password")
    out = term.expect(K["change_required"])
    assert "password" not in out.replace("Password", "")


def test_console_refuses_a_bad_value_and_saves_nothing(sim, term):
    first_login(term)
    before = sim.state()
    term.choose("add_ip")
    term.answer(K["nic_prompt"], "nic1")
    term.answer(K["address_prompt"], "198.51.100.20")
    term.answer(K["netmask_prompt"], "255.0.255.0")
    term.answer(K["vlan_prompt"], "")
    out = term.expect("\r\n" + K["error_prefix"])
    line = term.expect("\r\n")
    assert "netmask:" in line and "contiguous" in line, out + line
    term.choose("set_gateway")
    term.answer(K["gateway_prompt"], "203.0.113.1")
    term.expect(K["error_prefix"] + " default_gateway:")
    assert sim.state() == before


def test_console_refuses_a_password_breaking_the_rule_and_asks_to_log_in_again(sim, term):
    term.login("admin", "password")
    term.answer(K["new_password_prompt"], "weak")
    term.answer(K["confirm_password_prompt"], "weak")
    term.expect(K["password_refused"])
    assert "at least 8 characters" in term.expect("\r\n")
    term.expect(K["login_prompt"])
    assert sim.state()["users"][0]["must_change"] is True


def test_console_failures_share_the_web_lockout_counter(sim, term):
    for _ in range(2):
        term.login("admin", "wrong")
        term.expect(K["login_failed"])
    b = sim.browser()
    r = b.login("admin", "wrong")
    assert "2 attempts remaining" in r.text
    for _ in range(2):
        term.login("admin", "wrong")
    term.expect("Account locked for 300 seconds")
    term.login("admin", "password")
    term.expect("Account locked for")


def test_console_survives_the_cable_being_pulled_and_replugged(sim, term):
    first_login(term)
    term.expect(K["menu_prompt"])
    term.close()
    again = Terminal(sim.console_link)
    try:
        again.send(str(K["show_status"]))
        lines = again.block()
        assert "model: B400" in lines and "serial: B400-0012345" in lines
        assert "software version: 7.1.2" in lines
        again.choose("ping")
        again.answer(K["ping_prompt"], "169.254.1.254")
        again.expect("ping: 169.254.1.254 reachable")
        again.choose("ping")
        again.answer(K["ping_prompt"], "203.0.113.9")
        again.expect("ping: 203.0.113.9 unreachable")
        again.choose("logout")
        again.expect(K["banner"])
        again.expect(K["login_prompt"])
    finally:
        again.close()


def test_console_is_silent_during_a_reboot_then_asks_for_login(sim, term):
    first_login(term)
    term.expect(K["menu_prompt"])
    sim.fault("reboot", 2.5)  # long enough that the check below falls inside it
    term.send(str(K["show_status"]))
    time.sleep(0.5)
    assert term.port.read(4096) == b""
    term.expect(K["banner"])
    term.expect(K["login_prompt"])
