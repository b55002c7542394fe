"""Taking the port over from the real programs that own a laptop's port, and back.

Every peer here is the real Debian program, started by its fixture inside the
lab's laptop namespace with a private /run, bus and scratch files
(simulator/laptop.py): NetworkManager, dhclient, dhcpcd, avahi-autoipd,
systemd-networkd, dnsmasq for leases,
ser2net for the console. Nothing runs on the host's interfaces.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hwprobe.port import networkmanager, recovery
from hwprobe.port.takeover import Takeover
from hwprobe.errors import LinkError
from peers import peers, port  # noqa: F401  (fixture)
from sim_helpers import wait_until

pytestmark = pytest.mark.lab
ROOT = Path(__file__).resolve().parent.parent
CLAIMED = ("169.254.1.254", 24, False)


@pytest.fixture
def lab(make_lab):
    return make_lab(start_sim=False)


def nm(lab, env, *args):
    return subprocess.run(["ip", "netns", "exec", lab.laptop_ns, "nmcli", *args],
                          capture_output=True, text=True, timeout=10,
                          env={**os.environ, **env, "LC_ALL": "C"}).stdout


def nm_device(lab, env) -> dict:
    """lan0's NetworkManager state and active profile, in English."""
    out = nm(lab, env, "-t", "-f", "GENERAL.STATE,GENERAL.CONNECTION", "device", "show", "lan0")
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    return {"state": fields.get("GENERAL.STATE", ""),
            "profile": fields.get("GENERAL.CONNECTION", "")}


def held_steady(lab, seconds: float) -> list[dict]:
    """lan0 sampled every half second for ``seconds``."""
    seen = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        seen.append(port(lab.laptop_ns))
        time.sleep(0.5)
    return seen


# --- NetworkManager ----------------------------------------------------------------

def test_networkmanager_connecting_lets_go_keeps_away_through_cable_move_and_unplug(
        lab, peers, state_dir, monkeypatch):
    from simulator import lab as labmod
    from simulator.lab import in_netns

    nmp = peers.networkmanager(lab)
    for key, value in nmp.env.items():
        monkeypatch.setenv(key, value)
    assert nm_device(lab, nmp.env)["state"].startswith("70 (connecting")
    with in_netns(lab.laptop_ns):
        with Takeover("lan0", handle_signals=False) as held:
            assert nm_device(lab, nmp.env)["state"] == "10 (unmanaged)"
            # a cable move, then an unplug past 6 s (a run longer than NM's DHCP
            # timeout: test_networkmanager_keeps_away_through_a_slow_apply...)
            during = held_steady(lab, 1)
            labmod.plug(lab.name, "nic2")
            during += held_steady(lab, 1)
            labmod.unplug(lab.name)
            during += held_steady(lab, 6.5)
            labmod.plug(lab.name, "nic1")
            during += held_steady(lab, 1)
    assert all(p["addresses"] == [CLAIMED] for p in during), during[-1]
    assert all("default" not in p["routes"] for p in during)
    said = " ".join(held.notes)
    assert "NetworkManager managed lan0: set it unmanaged" in said
    assert "NetworkManager manages lan0 again" in said
    after = wait_until(lambda: (d := nm_device(lab, nmp.env))["state"].startswith("70 ") and d)
    assert after["profile"] == "Wired connection 1"
    assert port(lab.laptop_ns) == {"addresses": [], "up": True, "routes": ""}


def test_networkmanager_keeps_away_through_a_slow_apply_longer_than_its_dhcp_timeout(
        make_lab, peers, state_dir, tmp_path):
    """A real run, slowed by the simulator's delay fault, outlasts NM's DHCP
    timeout: NM never touches the port during it and gets it back afterwards."""
    from lab_helpers import start_bringup
    from simulator import control
    from simulator.laptop import NM_DHCP_TIMEOUT
    from sim_helpers import GOOD_PASSWORD

    lab = make_lab(appliance_address="169.254.1.3")
    nmp = peers.networkmanager(lab)
    sheet = tmp_path / "basic.toml"
    sheet.write_text(BASIC)
    # every answer waits 0.8 s: with apply's dozen or so requests the run
    # outlasts NM's DHCP timeout however few requests the engine needs
    control.send(lab.control, fault="delay", value=0.8)
    run = start_bringup(lab, "apply", "--sheet", str(sheet), "--address", "169.254.1.3",
                        "--iface", "lan0", "--json", state_dir=state_dir,
                        env_extra={**nmp.env, "BRINGUP_NEW_PASSWORD": GOOD_PASSWORD})
    during, seen_at = [], []
    while run.poll() is None:
        during.append((port(lab.laptop_ns), nm_device(lab, nmp.env)["state"]))
        seen_at.append(time.monotonic())
        time.sleep(0.5)
    out, err = run.communicate()
    assert run.returncode == 0, err
    assert {s["status"] for s in json.loads(out)["steps"]} == {"verified"}
    held = [i for i, (p, _) in enumerate(during) if p["addresses"] == [CLAIMED]]
    assert held and seen_at[held[-1]] - seen_at[held[0]] > NM_DHCP_TIMEOUT, \
        "the run was too short to prove anything"
    # from the takeover on: the laptop address only, NM unmanaged, until the give-back
    taken = during[held[0]:held[-1] + 1]
    assert all(p["addresses"] == [CLAIMED] and "default" not in p["routes"]
               and state == "10 (unmanaged)" for p, state in taken), taken
    after = wait_until(lambda: (d := nm_device(lab, nmp.env))["state"].startswith("70 ") and d)
    assert after["profile"] == "Wired connection 1"
    assert port(lab.laptop_ns)["addresses"] == []


def test_networkmanager_holding_a_lease_gets_the_port_back_and_renews_it(
        lab, peers, state_dir, monkeypatch):
    from simulator.lab import in_netns

    peers.dhcp_server(lab)
    nmp = peers.networkmanager(lab)
    for key, value in nmp.env.items():
        monkeypatch.setenv(key, value)
    wait_until(lambda: nm_device(lab, nmp.env)["state"] == "100 (connected)")
    before = port(lab.laptop_ns)
    [(lease, prefix, dynamic)] = before["addresses"]
    assert lease.startswith("10.99.0.") and dynamic
    with in_netns(lab.laptop_ns):
        with Takeover("lan0", force=True, handle_signals=False) as held:
            during = held_steady(lab, 2)
    assert all(p["addresses"] == [CLAIMED] for p in during)
    assert any("connected" in n for n in held.notes if "manages lan0 again" in n)
    after = nm_device(lab, nmp.env)
    assert after == {"state": "100 (connected)", "profile": "Wired connection 1"}
    # as NM has it: the lease again, with its lease time, not a forever-address
    assert wait_until(lambda: port(lab.laptop_ns) == before and port(lab.laptop_ns))


def test_networkmanager_installed_but_not_answering_is_refused_and_the_port_left_alone(
        lab, peers, state_dir, monkeypatch):
    from simulator.lab import in_netns

    nmp = peers.networkmanager(lab)
    for key, value in nmp.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(networkmanager, "NM_TIMEOUT", 2.0)
    before = port(lab.laptop_ns)
    os.kill(nmp.proc.pid, signal.SIGSTOP)
    try:
        with in_netns(lab.laptop_ns), pytest.raises(LinkError) as err:
            Takeover("lan0", handle_signals=False).take()
    finally:
        os.kill(nmp.proc.pid, signal.SIGCONT)
    said = str(err.value)
    assert f"NetworkManager runs (pid {nmp.proc.pid}) but does not answer" in said
    assert "nothing was changed" in said
    assert port(lab.laptop_ns) == before
    assert not list((state_dir / "links").glob("*.json"))


def test_networkmanager_installed_but_not_running_is_said_and_the_takeover_goes_on(
        lab, peers, state_dir, monkeypatch):
    from simulator.lab import in_netns

    nmp = peers.networkmanager(lab)
    for key, value in nmp.env.items():
        monkeypatch.setenv(key, value)
    nmp.stop()                       # the bus stays; nobody owns NetworkManager's name
    with in_netns(lab.laptop_ns):
        with Takeover("lan0", handle_signals=False) as held:
            assert port(lab.laptop_ns)["addresses"] == [CLAIMED]
    assert "NetworkManager is installed but not running" in " ".join(held.notes)


@pytest.fixture(scope="session")
def german_locale(tmp_path_factory):
    """A compiled de_DE.UTF-8 in a private LOCPATH (the host's locales untouched)."""
    from conftest import require_tool

    require_tool("localedef", "libc-bin")
    if not Path("/usr/share/i18n/locales/de_DE").exists():
        pytest.fail("de_DE locale sources missing: apt-get install locales")
    d = tmp_path_factory.mktemp("locale")
    subprocess.run(["localedef", "-i", "de_DE", "-f", "UTF-8", str(d / "de_DE.UTF-8")],
                   check=True, capture_output=True)
    return {"LOCPATH": str(d), "LANG": "de_DE.UTF-8", "LC_ALL": "de_DE.UTF-8",
            "LANGUAGE": "de"}


def test_a_german_laptop_is_read_right_managed_and_unmanaged(lab, peers, state_dir, monkeypatch,
                                                           german_locale):
    from simulator.lab import in_netns

    nmp = peers.networkmanager(lab)
    for key, value in {**nmp.env, **german_locale}.items():
        monkeypatch.setenv(key, value)
    shown = subprocess.run(["ip", "netns", "exec", lab.laptop_ns, "nmcli", "device"],
                           capture_output=True, text=True).stdout
    assert "nicht verwaltet" in shown           # this nmcli really speaks German here
    with in_netns(lab.laptop_ns):
        with Takeover("lan0", handle_signals=False) as managed:
            pass
        nm(lab, nmp.env, "device", "set", "lan0", "managed", "no")
        with Takeover("lan0", handle_signals=False) as unmanaged:
            pass
    assert "NetworkManager managed lan0: set it unmanaged" in " ".join(managed.notes)
    assert "NetworkManager does not manage lan0" in " ".join(unmanaged.notes)
    assert nm_device(lab, nmp.env)["state"] == "10 (unmanaged)"   # left as it was


# --- DHCP clients ------------------------------------------------------------------

def _clients(lab, name: str, without: str = "") -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", lab.laptop_ns], capture_output=True,
                         text=True).stdout.split()
    found = []
    for pid in out:
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if comm == name and state != "Z" and not (without and without in title.split()):
            found.append(int(pid))
    return found


def _dhcpcd_manager(lab) -> int:
    """The pid of the dhcpcd whose parent is not itself a dhcpcd."""
    pids = set(_clients(lab, "dhcpcd"))
    managers = []
    for pid in pids:
        try:
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid not in pids:
            managers.append(pid)
    assert len(managers) == 1, f"dhcpcd managers: {managers} of {sorted(pids)}"
    return managers[0]


def test_dhclient_is_stopped_for_the_run_and_started_again_with_its_lease(
        lab, peers, state_dir):
    from simulator.lab import in_netns

    peers.dhcp_server(lab)
    client = peers.dhclient(lab)
    before = wait_until(lambda: (p := port(lab.laptop_ns))["addresses"] and p)
    [first] = _clients(lab, "dhclient")
    with in_netns(lab.laptop_ns):
        with Takeover("lan0", force=True, handle_signals=False) as held:
            assert _clients(lab, "dhclient") == []
            during = held_steady(lab, 2)
    assert all(p["addresses"] == [CLAIMED] for p in during)
    assert f"dhclient ran on lan0 (pid {first}): stopped it" in " ".join(held.notes)
    [again] = wait_until(lambda: len(found := _clients(lab, "dhclient")) == 1 and found)
    assert again in client.pids()            # in the laptop's own mount namespace
    assert wait_until(lambda: port(lab.laptop_ns)["addresses"] == before["addresses"])


def _dhcpcd_daemons(lab) -> dict[int, str]:
    """dhcpcd's long-lived processes (manager and proxies) by pid, with their
    state letter: not the per-port helpers or the script runners it forks."""
    out = {}
    for pid in _clients(lab, "dhcpcd"):
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if re.search(r"\[(manager|privileged proxy|network proxy|control proxy)\]", title):
            out[pid] = state
    return out


def test_dhcpcd_that_puts_its_lease_back_is_paused_not_raced_then_takes_it_back(
        lab, peers, state_dir):
    from simulator.lab import in_netns

    peers.dhcp_server(lab)
    peers.dhcpcd(lab)
    before = wait_until(lambda: (p := port(lab.laptop_ns))["addresses"] and p)
    # what it does to a plain flush: the lease is back within seconds
    subprocess.run(["ip", "-n", lab.laptop_ns, "addr", "flush", "dev", "lan0"], check=True)
    wait_until(lambda: port(lab.laptop_ns)["addresses"] == before["addresses"], timeout=15)
    daemons = _dhcpcd_daemons(lab)
    manager = _dhcpcd_manager(lab)
    assert len(daemons) == 4 and set(daemons.values()) <= {"S", "R"}
    with in_netns(lab.laptop_ns):
        with Takeover("lan0", force=True, handle_signals=False) as held:
            during = held_steady(lab, 7)     # longer than dhcpcd takes to fight back
            paused = _dhcpcd_daemons(lab)
    assert all(p["addresses"] == [CLAIMED] for p in during), during
    assert set(paused) == set(daemons) and set(paused.values()) == {"T"}
    said = " ".join(held.notes)
    assert "dhcpcd ran on lan0" in said and "paused it" in said
    assert "dhcpcd runs DHCP on lan0 again" in said
    # the same dhcpcd, running again, puts its lease back by itself
    assert wait_until(lambda: port(lab.laptop_ns)["addresses"] == before["addresses"],
                      timeout=30)
    assert set(_dhcpcd_daemons(lab)) == set(daemons) and _dhcpcd_manager(lab) == manager
    assert "T" not in _dhcpcd_daemons(lab).values()


def test_dhcpcd_paused_by_a_run_that_died_runs_again_after_restore_link(lab, peers, state_dir):
    """A run SIGKILLed while it holds the port leaves dhcpcd paused: the
    journal knows, and restore-link resumes it; it takes its lease back."""
    from hwprobe.port import journal
    from simulator.lab import in_netns

    peers.dhcp_server(lab)
    peers.dhcpcd(lab)
    before = wait_until(lambda: (p := port(lab.laptop_ns))["addresses"] and p)
    dead = subprocess.Popen(["true"])
    dead.wait()
    with in_netns(lab.laptop_ns):
        held = Takeover("lan0", force=True, handle_signals=False).take()
        rec = journal.load("lan0")
        rec.owner_pid, rec.owner_start = dead.pid, "1"       # as if SIGKILLed
        journal.save(rec)
        recovery.HELD.clear()
        held._port_lock.release()              # the kernel drops a dead run's lock
        held.record = None
        assert set(_dhcpcd_daemons(lab).values()) == {"T"}
        said = []
        [restored] = recovery.restore_from_journal(on_note=said.append)
    assert restored.iface == "lan0"
    assert "dhcpcd runs DHCP on lan0 again" in " ".join(said)
    assert "T" not in _dhcpcd_daemons(lab).values()
    assert wait_until(lambda: port(lab.laptop_ns)["addresses"] == before["addresses"],
                      timeout=30)


def test_avahi_autoipd_link_local_is_stopped_for_the_run_and_claims_it_again(
        lab, peers, state_dir):
    from simulator.lab import in_netns

    autoipd = peers.avahi_autoipd(lab)
    before = wait_until(lambda: (p := port(lab.laptop_ns))["addresses"] and p, timeout=30)
    [(address, prefix, _)] = before["addresses"]
    assert address.startswith("169.254.") and prefix == 16
    with in_netns(lab.laptop_ns):
        with Takeover("lan0", force=True, handle_signals=False) as held:
            assert _clients(lab, "avahi-autoipd") == []
            during = held_steady(lab, 2)
    assert all(p["addresses"] == [CLAIMED] and "default" not in p["routes"]
               for p in during), during
    said = " ".join(held.notes)
    assert "avahi-autoipd ran on lan0" in said and "stopped it" in said
    assert "avahi-autoipd runs on lan0 again" in said
    # started again in the laptop's own mount namespace (polled: the parent
    # that daemonizes is there for a moment, then gone)
    wait_until(lambda: (again := set(_clients(lab, "avahi-autoipd")))
               and again <= set(autoipd.pids()))
    # it remembers its address and claims the same one again
    assert wait_until(lambda: port(lab.laptop_ns)["addresses"] == before["addresses"],
                      timeout=30)


def test_systemd_networkd_on_the_port_is_refused_with_the_commands_and_left_alone(
        lab, peers, state_dir):
    from simulator.lab import in_netns

    peers.dhcp_server(lab)
    networkd = peers.networkd(lab)
    before = wait_until(lambda: (p := port(lab.laptop_ns))["addresses"] and p)
    with in_netns(lab.laptop_ns), pytest.raises(LinkError) as err:
        Takeover("lan0", force=True, handle_signals=False).take()
    said = str(err.value)
    assert "systemd-networkd manages lan0 and would put its address back" in said
    assert "Unmanaged=yes" in said and "sudo networkctl reload" in said
    assert "nothing was changed" in said
    assert port(lab.laptop_ns) == before
    assert _clients(lab, "systemd-network") and networkd.proc.poll() is None


# --- serial through ser2net --------------------------------------------------------

BASIC = (Path(__file__).parent / "sheets" / "basic.toml").read_text()


@pytest.mark.parametrize("kind", ["rfc2217", "raw"])
def test_apply_console_through_ser2net(make_lab, peers, state_dir, tmp_path, kind):
    from sim_helpers import GOOD_PASSWORD

    lab = make_lab()
    server = peers.ser2net(lab)
    url = server.info[kind]
    sheet = tmp_path / "basic.toml"
    sheet.write_text(BASIC)
    env = {**os.environ, "BRINGUP_STATE_DIR": str(state_dir), "PYTHONPATH": str(ROOT),
           "BRINGUP_NEW_PASSWORD": GOOD_PASSWORD}
    env.pop("BRINGUP_PASSWORD", None)
    # ser2net listens on the host's loopback, like a terminal server on the laptop
    r = subprocess.run([sys.executable, "-m", "bringup",
                        "apply", "--sheet", str(sheet), "--console", url, "--json"],
                       env=env, capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr + r.stdout
    steps = {s["key"]: s["status"] for s in json.loads(r.stdout)["steps"]}
    assert steps == {"ip:nic1:198.51.100.20": "verified", "gateway": "verified",
                     "hostname": "verified", "dns": "verified"}
    assert url.startswith("rfc2217://" if kind == "rfc2217" else "socket://")
    assert "ign_set_control" not in url      # bringup adds it itself


# --- the lab command ---------------------------------------------------------------

def test_lab_up_with_real_laptop_peers_and_lab_down_removes_them_all(state_dir):
    from conftest import require_lab, require_tool

    require_lab()
    for program, package in (("NetworkManager", "network-manager"), ("ser2net", "ser2net"),
                             ("dnsmasq", "dnsmasq-base")):
        require_tool(program, package)
    name = f"p{os.getpid() % 100000}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cli = [sys.executable, "-m", "bringup", "lab"]
    up = subprocess.run([*cli, "up", "--name", name, "--laptop", "networkmanager",
                         "--laptop", "dhcp-server", "--laptop", "ser2net", "--json"],
                        capture_output=True, text=True, env=env, timeout=120)
    try:
        assert up.returncode == 0, up.stderr
        peers_up = json.loads(up.stdout)["peers"]
        assert {"dbus", "networkmanager", "dnsmasq", "ser2net"} <= set(peers_up)
        pids = [p["pid"] for p in peers_up.values()]
        # the command has exited, as after a crash: the programs still run
        assert all(Path(f"/proc/{pid}").exists() for pid in pids)
        shown = subprocess.run([*cli, "status"], capture_output=True, text=True, env=env)
        assert "laptop peer          networkmanager" in shown.stdout
        assert "rfc2217://127.0.0.1:" in shown.stdout
    finally:
        down = subprocess.run([*cli, "down", "--name", name], capture_output=True, text=True,
                              env=env, timeout=60)
    assert down.returncode == 0, down.stderr
    for pid in pids:
        stat = Path(f"/proc/{pid}/stat")
        assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


def test_a_console_the_user_may_not_open_says_dialout_or_sudo(tmp_path):
    """A pty owned by root, opened as an ordinary user: the words a technician
    gets for a USB adapter they are not allowed to open."""
    from conftest import require_tool

    require_tool("setpriv", "util-linux")    # root (a lab test) drops to nobody for the open
    master, slave = os.openpty()
    device = os.ttyname(slave)
    os.chmod(device, 0o600)
    try:
        code = ("from hwprobe.appliance.console import ConsoleDriver\n"
                "from hwprobe.errors import Unreachable\n"
                f"try:\n    ConsoleDriver({device!r}).open()\n"
                "except Unreachable as e:\n    print(e)\n")
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            sys.executable, "-c", code], capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT),
                                "BRINGUP_STATE_DIR": str(tmp_path)}, timeout=30)
    finally:
        os.close(slave)
        os.close(master)
    assert f"cannot open the console {device}" in r.stdout, r.stderr
    assert "dialout group" in r.stdout and "sudo usermod -aG dialout $USER" in r.stdout
    assert "or run bringup with sudo" in r.stdout
