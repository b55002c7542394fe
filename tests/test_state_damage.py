"""Damage to what bringup keeps on the laptop, tried as a technician meets it:
`bringup apply` and `restore-link` as their own processes in one lab's laptop
namespace (the lab is shared by the module; each test has its own state dir).

- a damaged run journal or pins file: a message naming the file and how to
  move it aside, exit 3, lan0 never touched, nothing sent;
- a damaged link journal while lan0 still holds the takeover address: said
  loudly with what lan0 holds now and how to put it back by hand, the file
  kept, lan0 left alone, and a second run does not journal .254 as lan0's own;
- `restore-link` applies a journal only to the port it was written for (name
  and MAC), never to the loopback;
- a state dir on a read-only or full file system (a tmpfs mounted in a
  private mount namespace): exit 3 before lan0 is touched; one that fills
  while the run goes on: a message, lan0 back, the report printed instead.
"""
from __future__ import annotations

import json
import shlex
import subprocess
import sys
import uuid

import pytest

from conftest import require_lab
from lab_helpers import (EXAMPLE, NEW_PASSWORD, SMTP_PASSWORD, bringup_argv, bringup_env,
                         no_traceback, own_address, port_state, run_bringup)
from hwprobe.port.journal import LinkRecord, SavedAddress
from simulator import control

pytestmark = pytest.mark.lab

ADDR = "169.254.1.3"
LATER = {"BRINGUP_PASSWORD": NEW_PASSWORD, "BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD}
APPLY = ("apply", "--sheet", str(EXAMPLE), "--address", ADDR, "--iface", "lan0")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One lab whose appliance already has its new password; lan0 holds an
    address of its own."""
    require_lab()
    from simulator import lab as labmod

    name = f"d{uuid.uuid4().hex[:6]}"
    made = labmod.up(name=name, appliance_address=ADDR)
    try:
        state = tmp_path_factory.mktemp("first")
        r = run_bringup(made, "capture", "--address", ADDR, "--iface", "lan0", "--out",
                        str(state / "first.toml"), state_dir=state,
                        env_extra={"BRINGUP_NEW_PASSWORD": NEW_PASSWORD})
        assert r.returncode == 0, r.stderr
        own_address(made)
        yield made
    finally:
        labmod.down(name)


def _requests(lab) -> int:
    return sum(control.send(lab.control, get="stats")["requests"].values())


def _netns_inode(lab) -> int:
    out = subprocess.run(["ip", "netns", "exec", lab.laptop_ns, "stat", "-L", "-c", "%i",
                          "/proc/self/ns/net"], capture_output=True, text=True, check=True)
    return int(out.stdout)


def _link_journal(lab, state_dir, iface="lan0"):
    path = state_dir / "links" / f"ns{_netns_inode(lab)}-{iface}.json"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _dead_record(lab, iface: str, mac: str, addresses) -> str:
    dead = subprocess.Popen(["true"])
    dead.wait()
    return LinkRecord(iface=iface, netns=_netns_inode(lab), ifindex=1, mac=mac, was_up=True,
                      addresses=addresses, owner_pid=dead.pid, owner_start="1",
                      taken_at=1.0).to_json()


def _lan0_mac(lab) -> str:
    shown = json.loads(subprocess.run(["ip", "-n", lab.laptop_ns, "-j", "link", "show", "lan0"],
                                      capture_output=True, text=True, check=True).stdout)
    return shown[0]["address"]


# --- run journal and pins ------------------------------------------------------------------

DAMAGED = {"empty list": "[]", "null": "null", "cut short": '{"steps": {"ip:nic1',
           "wrong types": '{"steps": [1, 2]}', "empty": ""}


@pytest.mark.parametrize("which", ["run journal", "pins file"])
@pytest.mark.parametrize("damage", sorted(DAMAGED))
def test_a_damaged_run_journal_or_pins_file_is_named_before_the_port_is_touched(
        lab, tmp_path, which, damage):
    state = tmp_path / "state"
    path = state / "runs" / f"{ADDR}_02_b5_00_00_00_01.json" if which == "run journal" \
        else state / "pins.json"
    path.parent.mkdir(parents=True)
    path.write_text(DAMAGED[damage])
    before, sent = port_state(lab.laptop_ns), _requests(lab)
    r = run_bringup(lab, *APPLY, state_dir=state, env_extra=LATER)
    assert r.returncode == 3, r.stdout + r.stderr
    assert no_traceback(r.stderr)
    assert f"{path} is damaged" in r.stderr and f"mv {path} {path}.bad" in r.stderr, r.stderr
    assert path.read_text() == DAMAGED[damage]           # the technician decides
    assert port_state(lab.laptop_ns) == before and _requests(lab) == sent


# --- link journal -------------------------------------------------------------------------

def test_a_damaged_link_journal_while_lan0_holds_254_is_said_loudly_and_never_replaced(
        lab, tmp_path):
    state = tmp_path / "state"
    path = _link_journal(lab, state)
    whole = _dead_record(lab, "lan0", _lan0_mac(lab), [SavedAddress("169.254.200.9", 24)])
    path.write_text(whole[: len(whole) // 2])            # a power cut mid-write (no fsync)
    own = port_state(lab.laptop_ns)
    subprocess.run(["ip", "-n", lab.laptop_ns, "addr", "add", "169.254.1.254/24", "dev", "lan0"],
                   check=True)
    try:
        held = port_state(lab.laptop_ns)
        for args in (APPLY, APPLY, ("restore-link",)):   # a second run: still refused
            r = run_bringup(lab, *args, state_dir=state, env_extra=LATER)
            # a damaged state file: 3, as docs/exit-status.md says
            assert r.returncode == 3 and no_traceback(r.stderr), r.stderr
            assert f"the link journal {path} of lan0 is damaged" in r.stderr, r.stderr
            assert "lan0 now holds 169.254.200.9/24, 169.254.1.254/24" in r.stderr, r.stderr
            assert "ip addr del 169.254.1.254/24 dev lan0" in r.stderr and f"rm {path}" in r.stderr
            assert port_state(lab.laptop_ns) == held
            assert path.read_text() == whole[: len(whole) // 2]
            assert not list(path.parent.glob("*.bad"))
    finally:
        subprocess.run(["ip", "-n", lab.laptop_ns, "addr", "del", "169.254.1.254/24", "dev",
                        "lan0"], check=True)
    assert port_state(lab.laptop_ns) == own


def test_restore_link_refuses_a_journal_naming_the_loopback(lab, tmp_path):
    state = tmp_path / "state"
    path = _link_journal(lab, state, "lo")
    path.write_text(_dead_record(lab, "lo", "00:00:00:00:00:00", []))
    r = run_bringup(lab, "restore-link", state_dir=state)
    assert r.returncode == 1 and no_traceback(r.stderr), r.stderr
    assert "names the loopback lo" in r.stderr and f"rm {path}" in r.stderr, r.stderr
    lo = subprocess.run(["ip", "-n", lab.laptop_ns, "-4", "addr", "show", "dev", "lo"],
                        capture_output=True, text=True, check=True).stdout
    assert "127.0.0.1/8" in lo and path.exists()


def test_restore_link_refuses_a_journal_written_for_another_adapter(lab, tmp_path):
    state = tmp_path / "state"
    path = _link_journal(lab, state)
    path.write_text(_dead_record(lab, "lan0", "02:00:5e:00:00:99", [SavedAddress("10.99.0.5", 24)]))
    before = port_state(lab.laptop_ns)
    r = run_bringup(lab, "restore-link", state_dir=state)
    assert r.returncode == 1 and no_traceback(r.stderr), r.stderr
    assert f"written for lan0 with MAC 02:00:5e:00:00:99, but lan0 here has MAC " \
           f"{_lan0_mac(lab)}" in r.stderr, r.stderr
    assert port_state(lab.laptop_ns) == before and path.exists()


# --- the state directory's file system ---------------------------------------------------------

def _in_own_mounts(lab, tmp_path, script: str, env_extra) -> subprocess.CompletedProcess:
    """Run ``script`` (sh) in a private mount namespace with $D a fresh tmpfs
    mount point (the state dir) and $BRINGUP the bringup command line."""
    d = tmp_path / "mnt"
    d.mkdir()
    env = bringup_env(d, env_extra)
    env.update({"D": str(d), "OUT": str(tmp_path),
                "BRINGUP": shlex.join(bringup_argv(lab, *APPLY))})
    return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                          env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("fs, words", [
    ("mount -t tmpfs tmpfs \"$D\" && mount -o remount,ro \"$D\"", "Read-only file system"),
    ("mount -t tmpfs -o size=64k tmpfs \"$D\"", "is on a full disk"),
], ids=["read-only", "full"])
def test_a_state_dir_on_a_read_only_or_full_file_system_exits_3_before_the_port(
        lab, tmp_path, fs, words):
    before, sent = port_state(lab.laptop_ns), _requests(lab)
    r = _in_own_mounts(lab, tmp_path, f"{fs} && exec $BRINGUP", LATER)
    assert r.returncode == 3, r.stdout + r.stderr
    assert words in r.stderr and "BRINGUP_STATE_DIR" in r.stderr and no_traceback(r.stderr)
    assert port_state(lab.laptop_ns) == before and _requests(lab) == sent


FILL_MID_RUN = """
mount -t tmpfs -o size=2m tmpfs "$D" || exit 99
$BRINGUP > "$OUT/stdout" 2> "$OUT/stderr" &
# once the run journal is written (the first step is under way), fill the disk
while ! ls "$D"/runs/*.json > /dev/null 2>&1; do
    kill -0 $! 2> /dev/null || break
    sleep 0.02
done
dd if=/dev/zero of="$D/fill" bs=4k 2> /dev/null
wait $!
echo $? > "$OUT/rc"
cp -r "$D/reports" "$OUT/" 2> /dev/null
exit 0
"""


def test_a_disk_that_fills_mid_run_gives_the_port_back_and_prints_the_report(lab, tmp_path):
    before = port_state(lab.laptop_ns)
    r = _in_own_mounts(lab, tmp_path, FILL_MID_RUN, LATER)
    assert r.returncode == 0, r.stderr
    rc = int((tmp_path / "rc").read_text())
    out, err = (tmp_path / "stdout").read_text(), (tmp_path / "stderr").read_text()
    assert rc == 1, out + err
    assert no_traceback(out, err) and "No space left on device" in err, err
    assert f"could not use {tmp_path / 'mnt'}/" in err, err          # which file it stopped at
    assert port_state(lab.laptop_ns) == before
    written = [p.read_text() for p in (tmp_path / "reports").glob("*.md")]
    report = "\n".join(t for t in written if t) or out
    assert "bringup report: " in report and report.startswith("# STOPPED while"), out + err
