"""The console driver against the simulated appliance's console: a real pty."""
from __future__ import annotations

import os
import re
import socket
import threading
import time

import pytest
import serial

from hwprobe.appliance.connect import connect_console
from hwprobe.appliance.console import ConsoleDriver
from hwprobe.errors import (
    ApplianceError, LockedOut, LoginFailed, PasswordRefused, Unreachable, ValidationRefused,
)
from hwprobe.appliance.state import IpAddress, Route
from area_helpers import read_state, send
from simfixture import make_sim, sim  # noqa: F401  (fixtures)

NEW = "Tr4il-Head!"
IP = IpAddress("nic1", "198.51.100.20", "255.255.255.0")
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d [<>#] ")


def console(device, tmp_path, **kw) -> ConsoleDriver:
    kw.setdefault("timeout", 5.0)
    kw.setdefault("transcript", tmp_path / "console.log")
    return connect_console(device, **kw)


@pytest.fixture
def con(sim, tmp_path):
    """A console driver logged in, the factory password already changed."""
    d = console(sim.console, tmp_path)
    assert d.login("admin", "password").change_required
    d.change_password("password", NEW)
    yield d
    d.close()


def test_console_first_login_forces_a_password_change_then_opens_the_menu(sim, tmp_path):
    with console(sim.console, tmp_path) as d:
        assert d.login("admin", "password").change_required
        d.change_password("password", NEW)
        assert read_state(d).model == "B400"
    assert sim.state()["users"] == [{"name": "admin", "must_change": False}]
    with console(sim.console, tmp_path) as d:
        assert d.login("admin", NEW).change_required is False


def test_console_refused_new_password_gives_the_rule_and_asks_again_at_next_login(sim, tmp_path):
    with console(sim.console, tmp_path) as d:
        d.login("admin", "password")
        with pytest.raises(PasswordRefused, match="must contain a digit") as refused:
            d.change_password("password", "weak-Password")
        assert "weak-Password" not in str(refused.value)
        assert d.login("admin", "password").change_required
    assert sim.state()["users"][0]["must_change"] is True


def test_console_wrong_password_shows_tries_left_then_locks_out(make_sim, tmp_path):
    sim = make_sim("--lockout-attempts", "2", "--lockout-seconds", "90")
    with console(sim.console, tmp_path) as d:
        with pytest.raises(LoginFailed) as first:
            d.login("admin", "Wrong-0ne!")
        with pytest.raises(LockedOut) as locked:
            d.login("admin", "Wrong-0ne!")
        with pytest.raises(LockedOut):
            d.login("admin", "password")
    assert first.value.tries_left == 1 and "1 attempt remaining" in str(first.value)
    assert locked.value.seconds == 90


def test_console_sets_the_four_basic_settings_and_reads_them_back(con, sim):
    tagged = IpAddress("nic2", "203.0.113.10", "255.255.255.128", vlan=20)
    send(con, "ip", ips=[IP])
    send(con, "ip", ips=[tagged])
    send(con, "gateway", default_gateway="198.51.100.1")
    send(con, "dns", dns_servers=["198.51.100.53", "203.0.113.53"])
    send(con, "hostname", hostname="support.example.net")
    state = read_state(con)
    assert IP in state.ips and tagged in state.ips
    assert (state.default_gateway, state.dns_servers, state.hostname) == (
        "198.51.100.1", ["198.51.100.53", "203.0.113.53"], "support.example.net")
    assert (state.syslog_servers, state.smtp) == (None, None)     # the console does not show them
    truth = sim.state()
    assert {(i.nic, i.address, i.netmask, i.vlan) for i in state.ips} == {
        (i["nic"], i["address"], i["netmask"], i["vlan"]) for i in truth["ips"]}
    assert [(n.name, n.mac, n.link) for n in state.nics] == [
        (n["nic"], n["mac"], n["link"]) for n in truth["nics"]]
    assert (truth["hostname"], truth["default_gateway"], truth["dns_servers"]) == (
        "support.example.net", "198.51.100.1", ["198.51.100.53", "203.0.113.53"])

    send(con, "dns", dns_servers=[])
    con.remove_row("ip_config", "address_table", {"nic": tagged.nic, "address": tagged.address},
                   "address")
    after = read_state(con)
    assert after.dns_servers == [] and tagged not in after.ips and IP in after.ips


def test_console_refused_value_raises_with_the_console_message_and_changes_nothing(con, sim):
    before = sim.state()
    with pytest.raises(ValidationRefused) as refused:
        send(con, "gateway", default_gateway="203.0.113.1")
    assert refused.value.field == "default_gateway"
    assert "203.0.113.1 is not in any configured subnet" in str(refused.value)
    with pytest.raises(ValidationRefused, match="is not configured"):
        con.remove_row("ip_config", "address_table", {"nic": IP.nic, "address": IP.address},
                       "address")
    assert sim.state() == before


def test_console_points_to_the_web_for_everything_else(con):
    assert con.capabilities == {"ip", "hostname", "gateway", "dns"}
    with pytest.raises(ApplianceError, match="not available on the local console: use the web interface"):
        send(con, "routes", routes=[Route("203.0.113.0/24", "198.51.100.254", "nic1")])
    with pytest.raises(ApplianceError, match="use the web interface"):
        send(con, "ntp", ntp_servers=["198.51.100.123"])


def test_console_transcript_is_timestamped_and_never_holds_a_password(sim, state_dir):
    with connect_console(sim.console, timeout=5.0) as d:       # default transcript place
        with pytest.raises(LoginFailed):
            d.login("admin", "Wr0ng-Secret!")
        d.login("admin", "password")
        d.change_password("password", NEW)
        send(d, "hostname", hostname="support.example.net")
        path = d.transcript_path
    assert path.parent == state_dir / "transcripts"
    text = path.read_text()
    lines = text.splitlines()
    assert all(STAMP.match(line) for line in lines)
    assert any(line.endswith("> admin") for line in lines)
    assert sum(line.endswith("> ********") for line in lines) >= 4   # 3 logins' + 2 new passwords
    assert any(line.endswith("< Select [1-9]: ") for line in lines)
    assert any("> support.example.net" in line for line in lines)
    for secret in ("Wr0ng-Secret!", NEW):
        assert secret not in text


def test_console_pane_callback_gets_what_the_appliance_prints_in_batches(sim, tmp_path):
    chunks: list[bytes] = []
    with console(sim.console, tmp_path, on_bytes=chunks.append) as d:
        d.login("admin", "password")
        d.change_password("password", NEW)
        read_state(d)
    received = b"".join(chunks).decode()
    assert "Password change required." in received and "model: B400" in received
    assert len(chunks) < received.count("\n")       # batched, not one call per byte or line


def test_console_logs_in_again_after_the_appliance_reboots(con, sim):
    sim.fault("reboot", 1)
    send(con, "hostname", hostname="support.example.net")
    assert sim.state()["hostname"] == "support.example.net"


def test_console_abandons_a_half_answered_item_someone_left(con, sim, tmp_path):
    con.close()
    with serial.serial_for_url(sim.console, baudrate=115200, timeout=2) as port:
        port.write(b"\x03")
        assert port.read_until(b"login: ").endswith(b"login: ")
        port.write(f"admin\r{NEW}\r5\r".encode())          # set gateway, then walked away
        assert port.read_until(b"Default gateway: ").endswith(b"Default gateway: ")
    with console(sim.console, tmp_path) as d:
        d.login("admin", NEW)
        send(d, "hostname", hostname="support.example.net")
        assert read_state(d).default_gateway == ""
    assert sim.state()["hostname"] == "support.example.net"


def test_silent_console_is_unreachable_with_advice(tmp_path):
    master, slave = os.openpty()
    try:
        device = os.ttyname(slave)
        with console(device, tmp_path, timeout=0.5) as d:
            with pytest.raises(Unreachable) as silent:
                d.login("admin", "password")
    finally:
        os.close(master)
        os.close(slave)
    message = str(silent.value)
    assert f"no answer from the console on {device} within 0.5 s" in message
    assert "115200 8N1" in message and "powered" in message


def test_missing_console_device_is_unreachable(tmp_path):
    with pytest.raises(Unreachable, match="cannot open the console /dev/nonexistent-tty"):
        console("/dev/nonexistent-tty", tmp_path)


def test_console_works_over_a_socket_url(sim, tmp_path):
    """A terminal server (ser2net style) in front of the console: socket://."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def bridge():
        conn, _ = listener.accept()
        fd = os.open(sim.console, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        conn.setblocking(False)
        try:
            while not stop.is_set():
                moved = False
                try:
                    data = conn.recv(4096)
                    if not data:
                        return
                    os.write(fd, data)
                    moved = True
                except BlockingIOError:
                    pass
                try:
                    conn.sendall(os.read(fd, 4096))
                    moved = True
                except BlockingIOError:
                    pass
                if not moved:
                    time.sleep(0.005)
        finally:
            os.close(fd)
            conn.close()

    thread = threading.Thread(target=bridge, daemon=True)
    thread.start()
    try:
        with console(f"socket://127.0.0.1:{port}", tmp_path) as d:
            assert d.login("admin", "password").change_required
            d.change_password("password", NEW)
            send(d, "ip", ips=[IP])
            assert IP in read_state(d).ips
    finally:
        stop.set()
        thread.join(5)
        listener.close()
