"""Helpers for lab tests that run bringup as a technician would: as its own
process inside the lab's laptop namespace, and look at lan0 from outside."""
from __future__ import annotations

import fcntl
import json
import re
import os
import select
import struct
import subprocess
import sys
import termios
import time
from collections import Counter
from contextlib import contextmanager
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "assets" / "example-sheet.toml"
NEW_PASSWORD = "Bring-Up-2am!x7"
SMTP_PASSWORD = "Smtp-Relay#Secret-93"
SECRETS = (NEW_PASSWORD, SMTP_PASSWORD)


SPECIAL_FILES = ("character device", "FIFO", "socket", "symbolic link", "folder")


def special_file(kind: str, path: Path) -> None:
    """Make ``path`` one of SPECIAL_FILES, in the test's own folder: a
    character device as /dev/full is (mknod: root), never one of /dev; a
    symbolic link to a missing file beside it."""
    import socket
    import stat

    if kind == "character device":
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 7))
    elif kind == "FIFO":
        os.mkfifo(path)
    elif kind == "socket":
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(path))
        s.close()
    elif kind == "symbolic link":
        path.symlink_to(path.with_name("elsewhere.toml"))
    elif kind == "folder":
        path.mkdir()
    else:
        raise ValueError(kind)


def second_port(ns: str, address: str = "169.254.1.100/24") -> None:
    """A second laptop port, other0 (a veth whose peer other1 stays in the
    laptop namespace, up, with no address), holding ``address``: on the
    appliance's network by default, the tempting wrong way out."""
    for cmd in (["link", "add", "other0", "type", "veth", "peer", "name", "other1"],
                ["link", "set", "other1", "up"], ["link", "set", "other0", "up"],
                ["addr", "add", address, "dev", "other0"]):
        subprocess.run(["ip", "-n", ns, *cmd], check=True)


def sniff(ns: str, iface: str, stop, frames: list):
    """Every frame on ``iface`` of namespace ``ns`` (either way), appended to
    ``frames`` by a thread until ``stop`` (a threading.Event) is set; returns
    the thread (join it after setting ``stop``)."""
    import socket
    import threading

    from simulator.lab import in_netns

    with in_netns(ns):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))  # ETH_P_ALL
        s.bind((iface, 0))
    s.settimeout(0.05)

    def run():
        with s:
            while not stop.is_set():
                try:
                    frames.append(s.recv(2048))
                except TimeoutError:
                    pass
    t = threading.Thread(target=run)
    t.start()
    return t


def port_state(ns: str, iface: str = "lan0") -> dict:
    """What `ip` shows for the port: IPv4 addresses (all attributes), UP flag, routes."""
    shown = json.loads(subprocess.run(["ip", "-n", ns, "-j", "addr", "show", "dev", iface],
                                      capture_output=True, text=True, check=True).stdout)[0]
    addrs = [{k: a.get(k) for k in ("local", "prefixlen", "broadcast", "scope", "label")}
             for a in shown.get("addr_info", []) if a["family"] == "inet"]
    routes = subprocess.run(["ip", "-n", ns, "-4", "route", "show", "dev", iface],
                            capture_output=True, text=True, check=True).stdout
    return {"addresses": addrs, "up": "UP" in shown["flags"], "routes": routes}


def own_address(lab, address: str = "169.254.200.9/24") -> dict:
    """Give lan0 an address of its own (a technician's leftover setting), up."""
    ns = lab.laptop_ns
    subprocess.run(["ip", "-n", ns, "addr", "add", address, "dev", "lan0"], check=True)
    subprocess.run(["ip", "-n", ns, "link", "set", "lan0", "up"], check=True)
    return port_state(ns)


def bringup_env(state_dir, env_extra=None) -> dict:
    env = dict(os.environ)
    env.update({"BRINGUP_STATE_DIR": str(state_dir), "PYTHONPATH": str(ROOT)})
    for key in ("BRINGUP_PASSWORD", "BRINGUP_NEW_PASSWORD", "BRINGUP_SMTP_PASSWORD"):
        env.pop(key, None)
    env.update(env_extra or {})
    return env


def bringup_argv(lab, *args) -> list[str]:
    return ["ip", "netns", "exec", lab.laptop_ns, sys.executable, "-m", "bringup", *args]


def on_a_pty(argv: list[str], env: dict, *, size: tuple[int, int] | None = None,
             idle: float = 30, react=None) -> tuple[int, bytes]:
    """``argv`` on a real pty (its controlling terminal when ``size`` is
    given); reads everything it writes until it closes the pty, ``idle``
    seconds pass with no output, or 90 s go by. ``react(out)`` is called after
    each read and may return keys to type. Returns (exit status, the bytes)."""
    import pty

    master, slave = pty.openpty()
    if size:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *size, 0, 0))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                            close_fds=True, start_new_session=size is not None)
    os.close(slave)
    out, quiet_since = b"", time.monotonic()
    deadline = quiet_since + 90
    try:
        while time.monotonic() < deadline and time.monotonic() - quiet_since < idle:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:                   # EIO: the child closed the pty
                    break
                if not chunk:
                    break
                out, quiet_since = out + chunk, time.monotonic()
            keys = react(out) if react else None
            if keys:
                os.write(master, keys)
        return proc.wait(timeout=30), out
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)


def run_bringup(lab, *args, state_dir, env_extra=None, timeout=120):
    return subprocess.run(bringup_argv(lab, *args), env=bringup_env(state_dir, env_extra),
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def start_bringup(lab, *args, state_dir, env_extra=None):
    return subprocess.Popen(bringup_argv(lab, *args), env=bringup_env(state_dir, env_extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)


def reports(state_dir) -> list[Path]:
    return sorted((Path(state_dir) / "reports").glob("*.md"))


def no_traceback(*texts: str) -> bool:
    return not any("Traceback (most recent call last)" in t for t in texts)


def request_discipline(log: list[str]) -> list[str]:
    """What a run's web requests (the simulator's ordered request log, "GET
    /path") did beyond the engine's discipline, in words; [] when none:

    - a form that holds values (Global Configuration, NTP, syslog, e-mail)
      saved more than once in the run: one save carries all its changes;
    - a page read again when no save touched it since it was last read (the
      first read of each page is the plan's, the next one a read-back).

    Add and delete forms may be posted once per address or route."""
    from hwprobe.appliance.pagemap import PAGES
    from simulator.web import ACTIONS, PAGE_OF_KEY, PAGE_PATHS

    whole = {spec["action"] for spec in PAGES.values()
             if isinstance(spec, Mapping) and isinstance(spec.get("action"), str)}
    problems, saves, read = [], Counter(), set()
    for entry in log:
        method, path = entry.split(" ", 1)
        if method == "POST" and path in ACTIONS:
            saves[path] += 1
            if path in whole and saves[path] == 2:
                problems.append(f"{path} saved again")
            read.discard(PAGE_OF_KEY[ACTIONS[path][0]])
        elif method == "GET" and path in PAGE_PATHS:
            if path in read:
                problems.append(f"{path} read again with no save in between")
            read.add(path)
    return problems


_CUP = re.compile(r"\x1b\[(\d*);?(\d*)H")
_ESCAPE = re.compile(r"\x1b(\[[0-9;?<>=$]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|P[^\x1b]*\x1b\\|"
                     r"[()][0-9A-B]|[=>78cDEHM])")


def terminal_screen(data: bytes, width: int = 80, height: int = 24) -> str:
    """What a terminal of ``width`` x ``height`` shows after ``data`` (cursor
    moves and text; styles ignored). The console profile writes only the
    cells that change, so the bytes alone do not say what is on the screen."""
    grid = [[" "] * width for _ in range(height)]
    text = data.decode("utf-8", "replace")
    y = x = pos = 0

    def put(chunk: str) -> None:
        nonlocal x, y
        for ch in chunk:
            if ch == "\r":
                x = 0
            elif ch == "\n":
                y = min(y + 1, height - 1)
            elif ch >= " " and 0 <= y < height and 0 <= x < width:
                grid[y][x] = ch
                x += 1

    for m in _ESCAPE.finditer(text):
        put(text[pos:m.start()])
        pos = m.end()
        move = _CUP.fullmatch(m.group(0))
        if move:
            y, x = int(move.group(1) or 1) - 1, int(move.group(2) or 1) - 1
    put(text[pos:])
    return "\n".join("".join(row) for row in grid)


@contextmanager
def ended_not_reaped():
    """A process that has ended and that nobody has waited for yet (a
    zombie), as an orphan is until init reaps it; yields its pid. Reaped on
    leaving."""
    proc = subprocess.Popen(["true"])
    try:
        deadline = time.monotonic() + 10
        while Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the process never ended"
            time.sleep(0.01)
        yield proc.pid
    finally:
        proc.wait()
