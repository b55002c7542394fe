"""Taking the laptop port over and giving it back, in-process, in a lab.

The port starts the way a technician's laptop might have it: an office address
(10.99.0.5/24) and the interface down. Every test checks it comes back exactly.
"""
from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from hwprobe.appliance import pins
from hwprobe.port import journal, recovery
from hwprobe.port.takeover import Takeover
from hwprobe.errors import PortBusy, LinkError, PortRefused

from lab_helpers import ended_not_reaped, port_state, second_port

pytestmark = pytest.mark.lab


def office_port(lab, up: bool = False) -> dict:
    ns = lab.laptop_ns
    subprocess.run(["ip", "-n", ns, "addr", "add", "10.99.0.5/24", "dev", "lan0"], check=True)
    subprocess.run(["ip", "-n", ns, "link", "set", "lan0", "up" if up else "down"], check=True)
    return port_state(ns)


@pytest.fixture
def lab(make_lab):
    return make_lab(start_sim=False)


def test_takeover_puts_port_on_laptop_address_then_gives_back_exactly(lab, state_dir):
    from simulator.lab import in_netns

    before = office_port(lab)
    notes = []
    with in_netns(lab.laptop_ns):
        with Takeover("lan0", force=True, on_note=notes.append) as held:
            during = port_state(lab.laptop_ns)
            assert journal.load("lan0").describe() == "10.99.0.5/24, down"
    assert held.address == "169.254.1.254"
    assert during["up"]
    assert [(a["local"], a["prefixlen"]) for a in during["addresses"]] == [("169.254.1.254", 24)]
    assert "default" not in during["routes"]
    assert port_state(lab.laptop_ns) == before
    assert any("given back: 10.99.0.5/24, down" in n for n in notes)
    assert not list((state_dir / "links").glob("*.json"))
    held.give_back()  # again: harmless
    assert port_state(lab.laptop_ns) == before


def test_takeover_gives_back_when_the_work_inside_fails(lab, state_dir):
    from simulator.lab import in_netns

    before = office_port(lab, up=True)
    with in_netns(lab.laptop_ns), pytest.raises(RuntimeError):
        with Takeover("lan0", force=True):
            raise RuntimeError("probe blew up")
    assert port_state(lab.laptop_ns) == before


def test_port_with_office_address_is_refused_without_force_and_left_alone(lab, state_dir):
    from simulator.lab import in_netns

    before = office_port(lab)
    with in_netns(lab.laptop_ns), pytest.raises(PortRefused) as err:
        Takeover("lan0").take()
    assert err.value.exit_status == 2
    assert "10.99.0.5/24" in str(err.value) and "--force" in str(err.value)
    assert port_state(lab.laptop_ns) == before
    assert not (state_dir / "links").exists() or not list((state_dir / "links").iterdir())


def test_port_with_default_route_is_refused_and_forced_takeover_puts_route_back(lab, state_dir):
    from simulator.lab import in_netns

    office_port(lab, up=True)
    subprocess.run(["ip", "-n", lab.laptop_ns, "route", "add", "default", "via", "10.99.0.1"],
                   check=True)
    before = port_state(lab.laptop_ns)
    with in_netns(lab.laptop_ns):
        with pytest.raises(PortRefused) as err:
            Takeover("lan0").take()
        assert "default route" in str(err.value)
        with Takeover("lan0", force=True) as held:
            assert "default" not in port_state(lab.laptop_ns)["routes"]
    assert any("--force" in n for n in held.notes)
    assert "default via 10.99.0.1" in port_state(lab.laptop_ns)["routes"]
    assert port_state(lab.laptop_ns) == before


def test_address_moves_aside_when_another_host_holds_169_254_1_254(lab, state_dir):
    from simulator.lab import in_netns

    subprocess.run(["ip", "-n", lab.appliance_ns, "addr", "add", "169.254.1.254/24",
                    "dev", "nic1"], check=True)
    with in_netns(lab.laptop_ns):
        with Takeover("lan0") as held:
            during = port_state(lab.laptop_ns)
    assert held.address == "169.254.1.253"
    assert [a["local"] for a in during["addresses"]] == ["169.254.1.253"]
    said = " ".join(held.notes)
    assert "169.254.1.254 is already used" in said and lab.nic_macs["nic1"] in said
    assert "using 169.254.1.253 instead" in said


def test_the_address_moves_aside_when_another_port_of_this_laptop_holds_it(lab, state_dir):
    """Nobody on lan0's wire answers for 169.254.1.254, but the laptop's own
    other0 has it: claimed twice, the laptop would answer for it on two links."""
    from simulator.lab import in_netns

    second_port(lab.laptop_ns, "169.254.1.254/16")
    with in_netns(lab.laptop_ns):
        with Takeover("lan0", force=True) as held:
            during = port_state(lab.laptop_ns)
            assert held.address == "169.254.1.253"
            assert [a["local"] for a in during["addresses"]] == ["169.254.1.253"]
    said = " ".join(held.heeded)
    assert "169.254.1.254 is already used by this laptop's own other0" in said
    assert "using 169.254.1.253 instead" in said


def test_a_chosen_laptop_address_held_by_another_port_is_refused_and_nothing_changes(
        lab, state_dir):
    from simulator.lab import in_netns

    before = office_port(lab, up=True)
    second_port(lab.laptop_ns, "169.254.7.7/24")
    with in_netns(lab.laptop_ns), pytest.raises(LinkError) as refused:
        Takeover("lan0", address="169.254.7.7", force=True).take()
    assert "169.254.7.7 is already used by this laptop's own other0" in str(refused.value)
    assert "--laptop-address" in str(refused.value)
    assert port_state(lab.laptop_ns) == before
    assert not list((state_dir / "links").glob("*.json"))


def test_two_lab_namespaces_keep_separate_journals_for_their_lan0(make_lab, state_dir):
    from simulator.lab import in_netns

    first, second = make_lab(start_sim=False), make_lab(start_sim=False)
    before = office_port(first)
    with in_netns(first.laptop_ns):
        one = Takeover("lan0", force=True).take()
    with in_netns(second.laptop_ns):
        two = Takeover("lan0").take()
        assert journal.load("lan0").describe() == "no address, up"
    assert len(list((state_dir / "links").glob("*-lan0.json"))) == 2
    with in_netns(first.laptop_ns):
        assert journal.load("lan0").describe() == "10.99.0.5/24, down"
        one.give_back()
    with in_netns(second.laptop_ns):
        two.give_back()
    assert port_state(first.laptop_ns) == before
    assert port_state(second.laptop_ns)["addresses"] == []


def left_by_a_dead_run() -> None:
    """lan0 taken over and journalled as if by a run that was SIGKILLed."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    held = Takeover("lan0", force=True).take()
    rec = journal.load("lan0")
    rec.owner_pid, rec.owner_start = dead.pid, "1"
    journal.save(rec)
    recovery.HELD.clear()
    held._port_lock.release()              # the kernel drops a dead run's lock
    held.record = None


def test_restore_from_journal_after_a_dead_run_and_again_is_harmless(lab, state_dir):
    from simulator.lab import in_netns

    before = office_port(lab)
    with in_netns(lab.laptop_ns):
        left_by_a_dead_run()
        restored = recovery.restore_from_journal()
        again = recovery.restore_from_journal()
    assert [r.describe() for r in restored] == ["lan0: 10.99.0.5/24, down"]
    assert again == []
    assert port_state(lab.laptop_ns) == before


def test_a_run_ended_but_not_reaped_yet_has_its_port_put_back_from_the_journal(lab, state_dir):
    """A console whose terminal closed under it ends as an orphan, and init
    reaps it seconds later here: meanwhile it is a zombie, which holds the
    port no more (the kernel dropped its lock), so the port goes back."""
    from simulator.lab import in_netns

    before = office_port(lab)
    with ended_not_reaped() as pid, in_netns(lab.laptop_ns):
        held = Takeover("lan0", force=True).take()
        rec = journal.load("lan0")
        rec.owner_pid, rec.owner_start = pid, journal.process_start(pid)
        journal.save(rec)
        recovery.HELD.clear()
        held._port_lock.release()              # the kernel dropped its lock as it ended
        held.record = None
        restored = recovery.restore_from_journal()
    assert [r.describe() for r in restored] == ["lan0: 10.99.0.5/24, down"]
    assert port_state(lab.laptop_ns) == before


def test_a_dead_runs_journal_is_left_to_a_new_run_that_holds_the_ports_lock(lab, state_dir):
    """A run that is starting takes the port's lock, then puts the port back
    from the journal itself: restore-link must not do it under it."""
    from hwprobe.port.lock import PortLock
    from simulator.lab import in_netns

    with in_netns(lab.laptop_ns):
        left_by_a_dead_run()
        taken = port_state(lab.laptop_ns)
        starting = PortLock("lan0", journal.netns_inode())
        starting.acquire()                     # as a new run holds it before reading
        try:
            with pytest.raises(LinkError) as err:
                recovery.restore_from_journal("lan0")
            # without --iface too: the port is left to that run, and said (exit 1)
            with pytest.raises(PortBusy) as busy:
                recovery.restore_from_journal()
            said = [str(busy.value)]
            assert journal.load("lan0") is not None
            assert port_state(lab.laptop_ns) == taken
        finally:
            starting.release()
        assert [r.iface for r in recovery.restore_from_journal("lan0")] == ["lan0"]
    assert f"in use by another bringup (pid {os.getpid()})" in str(err.value)
    assert any("in use by another bringup" in line for line in said)


def test_a_port_held_by_a_live_bringup_is_not_restored_under_it(lab, state_dir):
    from simulator.lab import in_netns

    with in_netns(lab.laptop_ns):
        with Takeover("lan0") as held:
            with pytest.raises(LinkError) as err:
                recovery.restore_from_journal("lan0")
            assert "in use by bringup" in str(err.value)
            assert port_state(lab.laptop_ns)["addresses"][0]["local"] == held.address


# --- NetworkManager hand-off, with a stand-in nmcli ----------------------------
# (the real NetworkManager: tests/test_laptop_peers.py; these pin the exact calls)

NMCLI = """#!/bin/sh
echo "$*" >> "{log}"
case "$*" in
  "-t -f DEVICE,STATE device") printf 'lo:unmanaged\\nlan0:{state}\\n' ;;
  "device set lan0 managed "*) ;;
  "-t -f GENERAL.STATE device show lan0") echo 'GENERAL.STATE:100 (connected)' ;;
  *) echo "unexpected" >&2; exit 2 ;;
esac
"""


def stand_in_nmcli(tmp_path, monkeypatch, state: str):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "nmcli.log"
    script = bin_dir / "nmcli"
    script.write_text(NMCLI.format(log=log, state=state))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


@pytest.fixture
def nm_process(lab, tmp_path):
    """A process called NetworkManager in the laptop namespace (a copy of sleep):
    bringup asks nmcli only when NetworkManager runs in the port's namespace."""
    import shutil

    exe = tmp_path / "sbin" / "NetworkManager"
    exe.parent.mkdir()
    shutil.copy("/bin/sleep", exe)
    proc = subprocess.Popen(["ip", "netns", "exec", lab.laptop_ns, str(exe), "600"])
    yield proc
    proc.kill()
    proc.wait()


def test_networkmanager_lets_go_of_the_port_and_gets_it_back(lab, state_dir, tmp_path,
                                                              monkeypatch, nm_process):
    from simulator.lab import in_netns

    log = stand_in_nmcli(tmp_path, monkeypatch, "connected")
    with in_netns(lab.laptop_ns):
        with Takeover("lan0") as held:
            assert journal.load("lan0").networkmanager is True
            calls_during = log.read_text().splitlines()
    assert calls_during == ["-t -f DEVICE,STATE device", "device set lan0 managed no"]
    assert log.read_text().splitlines()[len(calls_during):] == [
        "device set lan0 managed yes", "-t -f GENERAL.STATE device show lan0"]
    said = " ".join(held.notes)
    assert "NetworkManager managed lan0: set it unmanaged" in said
    assert "NetworkManager manages lan0 again" in said


def test_networkmanager_leaving_the_port_unmanaged_is_left_alone(lab, state_dir, tmp_path,
                                                                 monkeypatch, nm_process):
    from simulator.lab import in_netns

    log = stand_in_nmcli(tmp_path, monkeypatch, "unmanaged")
    with in_netns(lab.laptop_ns):
        with Takeover("lan0") as held:
            pass
    assert log.read_text().splitlines() == ["-t -f DEVICE,STATE device"]
    assert "NetworkManager does not manage lan0" in " ".join(held.notes)


def test_networkmanager_installed_but_not_running_here_is_not_asked(lab, state_dir, tmp_path,
                                                                    monkeypatch):
    from simulator.lab import in_netns

    log = stand_in_nmcli(tmp_path, monkeypatch, "connected")
    said: list[str] = []
    with in_netns(lab.laptop_ns):
        with Takeover("lan0", on_note=said.append) as held:
            assert journal.load("lan0").networkmanager is False
    assert not log.exists()                  # nmcli never ran
    assert "NetworkManager is installed but not running" in " ".join(held.notes)
    assert "nothing to hand off" in " ".join(held.notes)
    # kept for the run log, not said: nothing was done the technician must know
    assert "NetworkManager" not in " ".join(said), said


def test_without_networkmanager_the_takeover_says_so_and_goes_on(lab, state_dir, monkeypatch,
                                                                tmp_path):
    from simulator.lab import in_netns

    empty = tmp_path / "no-nmcli"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))    # a laptop without NetworkManager installed
    with in_netns(lab.laptop_ns):
        with Takeover("lan0") as held:
            pass
    assert "NetworkManager is not installed here (no nmcli)" in " ".join(held.notes)


def test_pinned_fingerprint_is_remembered_per_appliance_address(state_dir):
    fp = "AB:" * 31 + "CD"
    pins.pin_fingerprint("169.254.1.1", fp)
    assert pins.pinned_fingerprint("169.254.1.1") == ("ab" * 31 + "cd")
    assert pins.pinned_fingerprint("169.254.1.2") is None
    pins.forget_fingerprint("169.254.1.1")
    assert pins.pinned_fingerprint("169.254.1.1") is None
    with pytest.raises(ValueError):
        pins.pin_fingerprint("169.254.1.1", "not-a-hash")


def test_a_damaged_journal_entry_is_kept_and_named_never_set_aside(state_dir):
    path = state_dir / "links" / f"ns{journal.netns_inode()}-lan7.json"
    path.parent.mkdir(parents=True)
    whole = {"iface": "lan7", "netns": journal.netns_inode(), "ifindex": 7,
             "mac": "02:00:00:00:00:07", "was_up": True}
    for text in ("{half a record", "[]", "null", "", '{"iface": "lan7", "netns": "x"}',
                 json.dumps({**whole, "iface": "lo"}),            # not its own file's port
                 json.dumps({**whole, "addresses": [{"address": 5}]}),
                 json.dumps({**whole, "port_owners": [{"kind": "dhclient", "argv": "sh -c x"}]})):
        path.write_text(text)
        with pytest.raises(journal.LinkJournalDamaged) as damaged:
            journal.load("lan7")
        assert str(path) in str(damaged.value)
        assert path.read_text() == text        # left for the technician to decide
    path.write_text(json.dumps(whole))                  # the same record, whole, loads
    assert journal.load("lan7").mac == "02:00:00:00:00:07"
