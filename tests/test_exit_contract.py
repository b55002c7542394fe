"""The exit-status contract, walked: every command's refusals, run as a
technician (or a script) runs them, each as its own process, against the
table docs/exit-status.md states, and that table against the core's own
(hwprobe/errors.py: EXIT_STATUSES).

Each refusal is a row of the doc's "Every refusal, command by command"
table and a scenario here (the test fails when either has one the other
has not). Every run must end with the row's status, one line on stderr
that starts with "bringup" (or argparse's usage), no traceback; with
--json the error is also JSON on stdout. The walk runs in one network
namespace of its own (``bench``: a cable port ``cab0`` with nothing on it, a
``wan0`` with the default route); the table it prints goes in the closing
note."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import require_lab
from hwprobe.errors import EXIT_STATUSES
from lab_helpers import EXAMPLE, no_traceback, special_file

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "exit-status.md"
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def _doc_tables() -> tuple[dict[int, tuple[str, str]], dict[tuple[str, str], int]]:
    """The doc's two tables: status -> (meaning, changed); (command, refusal) -> status."""
    contract, refusals = {}, {}
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not line.startswith("|"):
            continue
        if re.fullmatch(r"\d+", cells[0]):
            contract[int(cells[0])] = (cells[1], cells[2])
        elif cells[0].startswith("`bringup") and re.fullmatch(r"\d+", cells[2]):
            refusals[(cells[0].strip("`"), cells[1])] = int(cells[2])
    return contract, refusals


def test_the_doc_states_the_core_contract_word_for_word():
    contract, refusals = _doc_tables()
    assert contract == EXIT_STATUSES
    assert set(refusals.values()) <= set(EXIT_STATUSES)


# --- the bench: a namespace with a cable port and a port with the default route ----------

class Bench:
    def __init__(self, ns: str, tmp: Path):
        self.ns, self.tmp = ns, tmp
        self.made: list[Path] = []
        self.inode = int(subprocess.run(["ip", "netns", "exec", ns, "stat", "-L", "-c", "%i",
                                         "/proc/self/ns/net"], capture_output=True, text=True,
                                        check=True).stdout)

    def state(self, name: str, *, open_to_all: bool = False) -> Path:
        if open_to_all:        # pytest's own folders are root's only: one nobody reaches
            import tempfile

            d = Path(tempfile.mkdtemp(prefix=f"bringup-walk-{name}-", dir="/tmp"))
            d.chmod(0o777)
            self.made.append(d)
            return d
        import tempfile

        # made unique by mkdtemp: four random hex digits met each other once
        # among the walk's folders (FileExistsError)
        return Path(tempfile.mkdtemp(prefix=f"state-{name}-", dir=self.tmp))

    def link_journal(self, state: Path, iface: str = "cab0") -> Path:
        d = state / "links"
        d.mkdir(exist_ok=True)
        return d / f"ns{self.inode}-{iface}.json"


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    require_lab()
    ns = f"bx{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        # veth pairs (no dummy driver here): cab0's far end cab1 is the cable
        # with nothing on it, wan0's far end the office network
        for cmd in (["link", "add", "cab0", "type", "veth", "peer", "name", "cab1"],
                    ["link", "set", "cab1", "up"], ["link", "set", "cab0", "up"],
                    ["link", "add", "wan0", "type", "veth", "peer", "name", "wan1"],
                    ["link", "set", "wan1", "up"], ["link", "set", "wan0", "up"],
                    ["addr", "add", "10.77.0.2/24", "dev", "wan0"],
                    ["route", "add", "default", "via", "10.77.0.1"],
                    ["link", "set", "lo", "up"]):
            subprocess.run(["ip", "-n", ns, *cmd], check=True)
        bench = Bench(ns, tmp_path_factory.mktemp("walk"))
        yield bench
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        import shutil

        for d in getattr(locals().get("bench"), "made", []):
            shutil.rmtree(d, ignore_errors=True)
    if WALKED:          # the walk as a table, for the closing note
        print("\n| command | refusal | doc | got |\n|---|---|---|---|")
        for command, refusal, want, got in WALKED:
            print(f"| `{command}` | {refusal} | {want} | {got} |")


WALKED: list[tuple[str, str, int, int]] = []


def _run(bench: Bench, args: list[str], *, state: Path | None = None, env_extra=None,
         prefix: list[str] = (), stdout=None, signal_at: tuple[float, int] | None = None,
         wrap: str | None = None) -> tuple[int, str, str]:
    """bringup ``args`` in the bench namespace; returns (status, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRINGUP_")}
    env.update({"PYTHONPATH": str(ROOT), "BRINGUP_STATE_DIR": str(state or bench.state("x"))})
    env.update(env_extra or {})
    inner = [*prefix, sys.executable, "-m", "bringup", *args]
    if wrap:
        inner = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                 wrap + ' && exec "$@"', "sh", *inner]
    argv = ["ip", "netns", "exec", bench.ns, *inner]
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                            stdout=stdout if stdout is not None else subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=str(bench.tmp))
    if signal_at is not None:
        time.sleep(signal_at[0])
        proc.send_signal(signal_at[1])
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out or "", err


def _holder(bench: Bench, state: Path):
    """A process that holds cab0 as a running bringup would: the port's lock,
    and a link journal naming it as the owner. Returns the Popen."""
    code = ("import sys, time\n"
            "from hwprobe.port.lock import PortLock\n"
            "from hwprobe.port import journal\n"
            "lock = PortLock('cab0', journal.netns_inode()); lock.acquire()\n"
            "journal.save(journal.LinkRecord(iface='cab0', netns=journal.netns_inode(), "
            "ifindex=2, mac='00:00:00:00:00:00', was_up=True, addresses=[]))\n"
            "print('holding', flush=True); time.sleep(120)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT), BRINGUP_STATE_DIR=str(state))
    proc = subprocess.Popen(["ip", "netns", "exec", bench.ns, sys.executable, "-c", code],
                            env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    return proc


def _with_holder(bench, args, **kw):
    state = bench.state("held")
    holder = _holder(bench, state)
    try:
        return _run(bench, args, state=state, **kw)
    finally:
        holder.kill()
        holder.wait()


def _damaged_link_journal(bench, args, **kw):
    state = bench.state("dlj")
    bench.link_journal(state).write_text("{ half a journal")
    return _run(bench, args, state=state, **kw)


def _state_file(name: str, text: str):
    def setup(bench, args, **kw):
        state = bench.state("file")
        (state / name).parent.mkdir(parents=True, exist_ok=True)
        (state / name).write_text(text)
        return _run(bench, args, state=state, **kw)
    return setup


def _runs_read_only(bench, args, **kw):
    state = bench.state("ro")
    (state / "runs").mkdir()
    return _run(bench, args, state=state,
                wrap=f'mount -t tmpfs tmpfs {state}/runs && mount -o remount,ro {state}/runs',
                **kw)


def _state_is_a_file(bench, args, **kw):
    spot = bench.tmp / f"statefile-{uuid.uuid4().hex[:4]}"
    spot.write_text("not a folder")
    return _run(bench, args, state=spot, **kw)


def _as_nobody(bench, args, *, journal: bool = False, **kw):
    state = bench.state("nobody", open_to_all=True)
    if journal:
        path = bench.link_journal(state)
        path.parent.chmod(0o777)
        dead = subprocess.Popen(["true"])
        dead.wait()
        from hwprobe.port.journal import LinkRecord

        path.write_text(LinkRecord(iface="cab0", netns=bench.inode, ifindex=2,
                                   mac="00:00:00:00:00:00", was_up=True, addresses=[],
                                   owner_pid=dead.pid, owner_start="1").to_json())
        path.chmod(0o644)
    return _run(bench, args, state=state, prefix=NOBODY, **kw)


KIND_WORDS = {"chr": "character device", "fifo": "FIFO", "socket": "socket",
              "symlink": "symbolic link", "folder": "folder"}


def _special_out(kind: str):
    """capture --out at a special file made in a private folder (mknod, never /dev)."""
    def setup(bench, args, **kw):
        folder = bench.tmp / f"out-{uuid.uuid4().hex[:4]}"
        folder.mkdir()
        target = folder / "site.toml"
        if kind in KIND_WORDS:
            special_file(KIND_WORDS[kind], target)
        elif kind == "exists":
            target.write_text("# a sheet already here\n")
        elif kind == "nofolder":
            target = folder / "missing" / "site.toml"
        result = _run(bench, [*args, "--out", str(target), *(
            ["--force"] if kind in ("chr", "fifo", "socket", "symlink") else [])], **kw)
        if kind in ("chr", "fifo", "socket", "symlink"):
            mode = os.lstat(target).st_mode
            import stat as st
            still = {"chr": st.S_ISCHR, "fifo": st.S_ISFIFO, "socket": st.S_ISSOCK,
                     "symlink": st.S_ISLNK}[kind](mode)
            assert still, f"{kind} at {target} was replaced"
        return result
    return setup


def _kit_out(kind: str):
    """kit --out at a folder that must not take a kit: a link to a folder, a
    device (mknod, in a private folder), a folder with a file in it."""
    def setup(bench, args, **kw):
        folder = bench.tmp / f"kit-{uuid.uuid4().hex[:4]}"
        folder.mkdir()
        target = folder / "kit"
        if kind == "symlink":
            (folder / "real").mkdir()
            target.symlink_to(folder / "real")
        elif kind == "chr":
            special_file("character device", target)
        else:
            target.mkdir()
            (target / "notes.txt").write_text("site notes\n")
        result = _run(bench, [*args, "--out", str(target)], **kw)
        assert not list((folder / "real").iterdir()) if kind == "symlink" else True
        return result
    return setup


def _finish_kit(case: str, sig: int | None = None):
    """--kit (the word KIT in the argv) at a kit made here, no lab
    (tests/finish_helpers.make_kit): whole, for another hostname, cut short
    (no manifest), or no folder at all; ``sig`` sent 1.5 s in."""
    def setup(bench, args, **kw):
        from finish_helpers import make_kit

        folder = bench.tmp / f"fkit-{uuid.uuid4().hex[:4]}"
        if case == "no folder":
            folder = folder / "nosuch"
        else:
            make_kit(folder, names=("other.example.net",) if case == "other host"
                     else ("support.example.net",))
            if case == "cut short":
                (folder / "manifest.json").unlink()
        args = [str(folder) if a == "KIT" else a for a in args]
        return _run(bench, args, signal_at=None if sig is None else (1.5, sig), **kw)
    return setup


def _pcap_at_fifo(bench, args, **kw):
    """--pcap at a FIFO made in a private folder: refused, the FIFO left."""
    import stat as st

    target = bench.tmp / f"pcap-{uuid.uuid4().hex[:4]}" / "lan0.pcap"
    target.parent.mkdir()
    special_file("FIFO", target)
    result = _run(bench, [*args, "--pcap", str(target)], **kw)
    assert st.S_ISFIFO(os.lstat(target).st_mode), f"the FIFO at {target} was replaced"
    return result


def _closed_reader(bench, args, **kw):
    r, w = os.pipe()
    os.close(r)
    try:
        return _run(bench, args, stdout=w, **kw)
    finally:
        os.close(w)


def _plain(bench, args, **kw):
    return _run(bench, args, **kw)


def _signal(sig):
    def setup(bench, args, **kw):
        return _run(bench, args, signal_at=(1.5, sig), **kw)
    return setup


KIT = ["kit", "--address", "192.0.2.1"]
KIT_SECRETS = {"BRINGUP_PASSWORD": "Walk-The-Line#42", "BRINGUP_API_CLIENT_ID": "walk",
               "BRINGUP_API_SECRET": "Walk-Api-Secret-1", "BRINGUP_BACKUP_PASSWORD": "Walk-Nsb#1",
               "BRINGUP_CERTIFICATE_PASSPHRASE": "Walk-Key#1"}
APPLY = ["apply", "--sheet", str(EXAMPLE)]
ON_CAB = ["--iface", "cab0"]
NEW = {"BRINGUP_NEW_PASSWORD": "Walk-The-Line#42", "BRINGUP_SMTP_PASSWORD": "Smtp#Walk-42"}
KNOWN = {"BRINGUP_PASSWORD": "Walk-The-Line#42"}
NOWHERE = "192.0.2.1"        # TEST-NET-1: no route from the bench
APPLY_KIT = ["apply", "--kit", "KIT"]
FINISH = {**NEW, "BRINGUP_BACKUP_PASSWORD": "Backup-Pw-For-Finish-31",
          "BRINGUP_CERTIFICATE_PASSPHRASE": "Cert-Passphrase-Finish-47",
          "BRINGUP_API_CLIENT_ID": "walk", "BRINGUP_API_SECRET": "Walk-Api-Secret-1"}
NO_BACKUP_PASSWORD = {k: v for k, v in FINISH.items() if k != "BRINGUP_BACKUP_PASSWORD"}
RESTORE_LOGIN = ["restore-login", "--kit", "KIT"]
LOGIN = {**FINISH, "BRINGUP_LOGIN_PASSWORD": "Walk-Login#42"}

# (command, refusal) -> (setup, argv, env)
SCENARIOS = {
    ("bringup", "no terminal on standard input"): (_plain, [], None),
    ("bringup demo", "a lab name with more than letters, digits, - and _"):
        (_plain, ["demo", "--name", "bad!name"], None),
    ("bringup demo", "not root"): (_as_nobody, ["demo", "--name", "walk1"], None),
    ("bringup probe", "no --iface"): (_plain, ["probe"], None),
    ("bringup probe", "--iface names no port"): (_plain, ["probe", "--iface", "nosuch0"], None),
    ("bringup probe", "the port holds the default route"):
        (_plain, ["probe", "--iface", "wan0"], None),
    ("bringup probe", "not root"): (_as_nobody, ["probe", "--iface", "cab0"], None),
    ("bringup probe", "a damaged link journal of the port"):
        (_damaged_link_journal, ["probe", "--iface", "cab0"], None),
    ("bringup probe", "another bringup holds the port"):
        (_with_holder, ["probe", "--iface", "cab0"], None),
    ("bringup probe", "--listen is not 0-600 seconds"):
        (_plain, ["probe", "--iface", "cab0", "--listen", "601"], None),
    ("bringup probe", "--pcap is a FIFO"): (_pcap_at_fifo, ["probe", "--iface", "cab0"], None),
    ("bringup probe", "nothing answers on the factory addresses"):
        (_plain, ["probe", "--iface", "cab0", "--no-https"], None),
    ("bringup apply", "a bad settings sheet"):
        (_plain, ["apply", "--sheet", str(ROOT / "tests/bad_sheets/nic3.toml"), "--address",
                  "169.254.1.1", *ON_CAB], NEW),
    ("bringup apply --json", "a bad settings sheet"):
        (_plain, ["apply", "--json", "--sheet", str(ROOT / "tests/bad_sheets/nic3.toml"),
                  "--address", "169.254.1.1", *ON_CAB], NEW),
    ("bringup apply", "--address is not an IPv4 address"):
        (_plain, [*APPLY, "--address", "169.254.1", *ON_CAB], NEW),
    ("bringup apply", "--address is empty"): (_plain, [*APPLY, "--address", "", *ON_CAB], NEW),
    ("bringup apply", "--address is off the network of a --laptop-address given"):
        (_plain, [*APPLY, "--address", "198.51.100.20", "--laptop-address", "169.254.1.250",
                  *ON_CAB], NEW),
    ("bringup apply", "a new password against the rule"):
        (_plain, [*APPLY, "--address", "169.254.1.1", *ON_CAB],
         {"BRINGUP_NEW_PASSWORD": "short", "BRINGUP_SMTP_PASSWORD": "x"}),
    ("bringup apply", "the state directory is a file"):
        (_state_is_a_file, [*APPLY, "--address", "169.254.1.1", *ON_CAB], NEW),
    ("bringup apply", "the runs folder cannot be written"):
        (_runs_read_only, [*APPLY, "--address", "169.254.1.1", *ON_CAB], NEW),
    ("bringup apply", "a damaged run journal"):
        (_state_file("runs/169.254.1.1@00_00.json", "{"), [*APPLY, "--address", "169.254.1.1",
                                                           *ON_CAB], NEW),
    ("bringup apply", "a damaged pins file"):
        (_state_file("pins.json", "["), [*APPLY, "--address", "169.254.1.1", *ON_CAB], NEW),
    ("bringup apply", "a damaged link journal of the port"):
        (_damaged_link_journal, [*APPLY, "--address", "169.254.1.1", *ON_CAB], NEW),
    ("bringup apply", "another bringup holds the port"):
        (_with_holder, [*APPLY, "--address", "169.254.1.1", *ON_CAB], NEW),
    ("bringup apply", "the appliance does not answer"):
        (_plain, [*APPLY, "--address", "169.254.1.1", *ON_CAB], NEW),
    ("bringup capture", "--out is a character device, --force given"):
        (_special_out("chr"), ["capture", "--address", NOWHERE], KNOWN),
    ("bringup capture", "--out is a FIFO, --force given"):
        (_special_out("fifo"), ["capture", "--address", NOWHERE], KNOWN),
    ("bringup capture", "--out is a socket, --force given"):
        (_special_out("socket"), ["capture", "--address", NOWHERE], KNOWN),
    ("bringup capture", "--out is a symbolic link, --force given"):
        (_special_out("symlink"), ["capture", "--address", NOWHERE], KNOWN),
    ("bringup capture", "--out is a folder"):
        (_special_out("folder"), ["capture", "--address", NOWHERE], KNOWN),
    ("bringup capture", "--out exists and no --force"):
        (_special_out("exists"), ["capture", "--address", NOWHERE], KNOWN),
    ("bringup capture", "--out is in a folder that does not exist"):
        (_special_out("nofolder"), ["capture", "--address", NOWHERE], KNOWN),
    ("bringup kit", "--out is a symbolic link"): (_kit_out("symlink"), KIT, KIT_SECRETS),
    ("bringup kit", "--out is a character device"): (_kit_out("chr"), KIT, KIT_SECRETS),
    ("bringup kit", "--out holds other files"): (_kit_out("full"), KIT, KIT_SECRETS),
    ("bringup apply --kit", "--kit names no folder"):
        (_finish_kit("no folder"), [*APPLY_KIT, "--address", "169.254.1.1", *ON_CAB], FINISH),
    ("bringup apply --kit", "a kit cut short (no manifest)"):
        (_finish_kit("cut short"), [*APPLY_KIT, "--address", "169.254.1.1", *ON_CAB], FINISH),
    ("bringup apply --kit", "the kit's certificate is for another hostname"):
        (_finish_kit("other host"), [*APPLY_KIT, "--address", "169.254.1.1", *ON_CAB], FINISH),
    ("bringup apply --kit", "a secret missing and no terminal"):
        (_finish_kit("whole"), [*APPLY_KIT, "--address", "169.254.1.1", *ON_CAB],
         NO_BACKUP_PASSWORD),
    ("bringup apply --kit", "--console (the finish needs the web interface)"):
        (_finish_kit("whole"), [*APPLY_KIT, "--console", "/nonexistent/ttyUSB9"], FINISH),
    ("bringup apply --kit", "--restart-deadline is 0"):
        (_finish_kit("whole"), [*APPLY_KIT, "--address", "169.254.1.1", *ON_CAB,
                                "--restart-deadline", "0"], FINISH),
    ("bringup apply", "--update-file without --kit"):
        (_plain, [*APPLY, "--update-file", str(EXAMPLE), "--address", "169.254.1.1", *ON_CAB],
         NEW),
    ("bringup apply --kit", "the appliance does not answer"):
        (_finish_kit("whole"), [*APPLY_KIT, "--address", "169.254.1.1", *ON_CAB], FINISH),
    ("bringup apply --kit", "SIGINT at any moment"):
        (_finish_kit("whole", signal.SIGINT), [*APPLY_KIT, "--address", "169.254.1.1", *ON_CAB],
         FINISH),
    ("bringup restore-login", "--address is not an IPv4 address"):
        (_finish_kit("whole"), [*RESTORE_LOGIN, "--address", "nope"], LOGIN),
    ("bringup restore-login", "/login's password not given and no terminal"):
        (_finish_kit("whole"), [*RESTORE_LOGIN, "--address", NOWHERE], FINISH),
    ("bringup restore-login", "--kit names no folder"):
        (_finish_kit("no folder"), [*RESTORE_LOGIN, "--address", NOWHERE], LOGIN),
    ("bringup restore-login", "the site does not answer"):
        (_finish_kit("whole"), [*RESTORE_LOGIN, "--address", NOWHERE], LOGIN),
    ("bringup restore-login", "SIGTERM at any moment"):
        (_finish_kit("whole", signal.SIGTERM), [*RESTORE_LOGIN, "--address", NOWHERE], LOGIN),
    ("bringup lab up", "--appliance-address with a prefix outside 1-30"):
        (_plain, ["lab", "up", "--name", "walk4", "--appliance-address", "198.51.100.20/31"],
         None),
    ("bringup lab up", "--install-seconds below 0"):
        (_plain, ["lab", "up", "--name", "walk3", "--install-seconds", "-1"], None),
    ("bringup restore-link", "--iface names no port and no journal"):
        (_plain, ["restore-link", "--iface", "nosuch0"], None),
    ("bringup restore-link", "another bringup holds the port"):
        (_with_holder, ["restore-link"], None),
    ("bringup restore-link --iface", "another bringup holds the port"):
        (_with_holder, ["restore-link", "--iface", "cab0"], None),
    ("bringup restore-link", "a damaged link journal"):
        (_damaged_link_journal, ["restore-link"], None),
    ("bringup restore-link", "not root, with a port to put back"):
        (lambda b, a, **kw: _as_nobody(b, a, journal=True, **kw), ["restore-link"], None),
    ("bringup ports", "an unknown option"): (_plain, ["ports", "--bogus"], None),
    ("bringup failover status", "--address is not an IPv4 address"):
        (_plain, ["failover", "status", "--address", "nope"], None),
    ("bringup failover status", "the appliance does not answer"):
        (_plain, ["failover", "status", "--address", NOWHERE], None),
    ("bringup readiness", "the sheet cannot be read"):
        (_plain, ["readiness", "--sheet", "/nonexistent/site.toml"], None),
    ("bringup runbook", "an unknown path"): (_plain, ["runbook", "nope"], None),
    ("bringup runbook", "the output's reader went away"):
        (_closed_reader, ["runbook", "hardware"], None),
    ("bringup lab up", "an appliance address outside .1-.4"):
        (_plain, ["lab", "up", "--name", "walk2", "--appliance-address", "169.254.1.9"], None),
    ("bringup lab plug", "no lab of that name is up"):
        (_plain, ["lab", "plug", "nic2", "--name", "nolab9"], None),
    ("bringup sim", "a required option missing"): (_plain, ["sim", "serve"], None),
    ("bringup verify", "no --sheet"): (_plain, ["verify", "--address", NOWHERE], KNOWN),
    ("bringup verify", "the appliance does not answer"):
        (_plain, ["verify", "--address", NOWHERE, "--sheet", str(EXAMPLE)], KNOWN),
    ("bringup survey", "--out is a folder that takes no file (/proc)"):
        (_plain, ["survey", "--address", NOWHERE, "--out", "/proc"], KNOWN),
    ("bringup survey", "--out is no folder"):
        (_plain, ["survey", "--address", NOWHERE, "--out", "/nonexistent/here"], KNOWN),
    ("bringup survey", "the appliance does not answer"):
        (lambda b, a, **kw: _run(b, [*a, "--out", str(b.tmp)], **kw),
         ["survey", "--address", NOWHERE], KNOWN),
    ("bringup completion", "an unknown shell"): (_plain, ["completion", "fish"], None),
    ("bringup install-extras", "--prefix is no folder"):
        (_plain, ["install-extras", "--prefix", "/nonexistent/prefix"], None),
    ("bringup man", "an unknown option"): (_plain, ["man", "--bogus"], None),
    ("bringup apply", "SIGINT at any moment"):
        (_signal(signal.SIGINT), [*APPLY, "--address", "169.254.1.1", *ON_CAB], NEW),
    ("bringup apply", "SIGTERM at any moment"):
        (_signal(signal.SIGTERM), [*APPLY, "--address", "169.254.1.1", *ON_CAB], NEW),
}


def test_every_refusal_in_the_doc_is_walked_and_none_else():
    _, refusals = _doc_tables()
    assert set(SCENARIOS) == set(refusals), (set(SCENARIOS) ^ set(refusals))


@pytest.mark.lab
@pytest.mark.xdist_group("exit-walk")
@pytest.mark.parametrize("key", list(SCENARIOS), ids=[f"{c}: {r}" for c, r in SCENARIOS])
def test_refusal_ends_with_the_status_the_doc_gives(bench, key):
    _, refusals = _doc_tables()
    setup, args, env = SCENARIOS[key]
    status, out, err = setup(bench, list(args), env_extra=env)
    WALKED.append((*key, refusals[key], status))
    said = out + err
    assert no_traceback(said), said[-2000:]
    assert status == refusals[key], f"{key}: exit {status}\n{said[-2000:]}"
    if status == 141:
        assert err == "", err                 # quietly, as git and ip do
        return
    lines = [line for line in err.splitlines() if line.startswith(("bringup", "usage:",
                                                                   "python -m simulator"))]
    assert lines, err
    if "--json" in args:
        shown = json.loads(out.strip().splitlines()[-1])
        assert shown["exit"] == status and shown["error"], out
    if status in (2, 3) and "--iface" in args and "cab0" in args:
        # nothing touched: cab0 holds no address of bringup's
        held = subprocess.run(["ip", "-n", bench.ns, "-4", "-o", "addr", "show", "cab0"],
                              capture_output=True, text=True).stdout
        assert "169.254.1.254" not in held
