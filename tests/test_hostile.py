"""A hostile appliance (simulator/hostile.py, switched at run time) against the
web driver: real HTTPS on 127.0.0.1. Whatever it sends ends as data or as a
message naming the page, within the answer deadline, with memory bounded."""
from __future__ import annotations

import resource
import time

import pytest

from hwprobe.appliance.connect import connect_web

from hwprobe.appliance import webhttp as webmod
from hwprobe.errors import ApplianceError
from hwprobe.safetext import shown, unsafe_in
from hwprobe.appliance.state import IpAddress
from area_helpers import read_state, send
from simfixture import start_sim

NEW = "Tr4il-Head!"
IP_PAGE = "/appliance/networking/ip"
# the two drips (body, and head before it) are run end to end in test_hostile_apply.py
FAILING = ("huge", "endless", "cut", "bad_gzip", "deep", "redirect_out")
SURVIVED = ("escapes", "odd_digits", "bad_utf8")
FIGURES: dict = {"tried": 0, "refused": 0, "tracebacks": 0, "longest_s": 0.0}


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """One appliance for the module, its password changed once; each test
    switches its hostile case on and off."""
    s = start_sim(tmp_path_factory.mktemp("hostile-sim"))
    d = connect_web("127.0.0.1", s.https_port, use_journal=False, retry_delay=0.2)
    assert d.login("admin", "password").change_required
    d.change_password("password", NEW)
    d.close()
    yield s
    s.stop()


@pytest.fixture
def web(sim):
    d = connect_web("127.0.0.1", sim.https_port, use_journal=False, retry_delay=0.2)
    assert d.login("admin", NEW).change_required is False
    yield d
    sim.fault("hostile", "")
    d.close()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("case", FAILING)
def test_hostile_answer_ends_with_a_message_naming_the_page(web, sim, case):
    sim.fault("hostile", f"{case}@{IP_PAGE}")
    started = time.monotonic()
    with pytest.raises(ApplianceError) as caught:
        read_state(web)
    took = time.monotonic() - started
    FIGURES["tried"] += 1
    FIGURES["refused"] += 1
    FIGURES["longest_s"] = max(FIGURES["longest_s"], took)
    message = str(caught.value)
    assert "IP Configuration" in message or "203.0.113.66" in message, message
    assert not unsafe_in(message)
    assert took < webmod.ANSWER_DEADLINE + 2 * webmod.DEFAULT_TIMEOUT[1]
    assert _rss_mb() < 400      # the pytest process as a whole; the bringup figure is in bench
    print(f"{case}: {took:.1f} s, peak RSS {_rss_mb():.0f} MB: {message}")


@pytest.mark.parametrize("case", SURVIVED)
def test_hostile_text_is_read_as_data_and_shown_escaped(web, sim, case):
    sim.fault("hostile", case)
    FIGURES["tried"] += 1
    state = read_state(web)          # no traceback: odd digits are not numbers, ESC is text
    for value in (state.model, state.serial, state.hostname, *state.dns_servers):
        assert not unsafe_in(shown(value))
    if case == "escapes":
        mac = state.nics[0].mac
        assert "\x1b" in mac                 # the real string is kept (JSON shows it)
        assert "\\x1b]0;owned" in shown(mac) and not unsafe_in(shown(mac))
    if case == "bad_utf8":
        # a byte that is not UTF-8 shows as itself, \xff: never "y", never "?"
        mac = state.nics[0].mac
        assert shown(mac).endswith("\\xff"), shown(mac)
        assert "\ufffd" not in mac and "\xff" not in mac and "y" not in mac[-2:]


def test_a_page_that_cannot_be_read_is_named_once(web, sim):
    """Item 6: "the appliance's page the password change page cannot be
    read" named the page twice; the page's menu name says it alone."""
    sim.fault("hostile", f"deep@{IP_PAGE}")
    with pytest.raises(ApplianceError) as caught:
        read_state(web)
    sim.fault("hostile", "")
    message = str(caught.value)
    assert message.startswith("Networking > IP Configuration cannot be read"), message
    assert "page the" not in message and "'s page" not in message


def test_a_post_whose_answer_is_cut_gets_the_was_it_applied_re_read(web, sim):
    sim.fault("hostile", "cut@/appliance/networking/ip/add")
    with pytest.raises(ApplianceError) as caught:
        send(web, "ip", ips=[IpAddress("nic1", "198.51.100.20", "255.255.255.0")])
    sim.fault("hostile", "")
    assert "IP Configuration" in str(caught.value)
    assert getattr(caught.value, "applied", "unset") in (True, False, None)


def test_a_tls_handshake_dripped_byte_by_byte_ends_at_its_deadline():
    """A local server that answers the TLS hello with a record header and then
    one byte every 0.3 s (each inside the 1 s timeout): the fingerprint read
    still ends, with a message (CPython bounds a whole TLS handshake by the
    socket's timeout, not each byte of it)."""
    import socket
    import threading

    from hwprobe.appliance.pinning import fetch_fingerprint
    from hwprobe.errors import Unreachable

    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip():
        conn, _ = server.accept()
        with conn:
            conn.recv(4096)
            conn.sendall(b"\x16\x03\x03\x40\x00")        # a 16 KB handshake record follows...
            while not stop.is_set():
                try:
                    conn.sendall(b"\x00")
                except OSError:
                    return
                stop.wait(0.3)

    threading.Thread(target=drip, daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(Unreachable, match="did not answer HTTPS"):
            fetch_fingerprint("127.0.0.1", server.getsockname()[1], timeout=1.0)
    finally:
        stop.set()
        server.close()
    FIGURES["tried"] += 1
    FIGURES["longest_s"] = max(FIGURES["longest_s"], time.monotonic() - started)
