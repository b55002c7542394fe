"""Run a simulated appliance on 127.0.0.1 (ephemeral ports) and talk to it.

Used by tests/test_sim_*.py. ``Sim`` starts ``python -m simulator serve`` in a
subprocess exactly as the lab does (minus the namespace); ``Browser`` is a
requests session that verifies HTTPS against the simulator's own certificate,
finds the CSRF token in each page and reads the error/notice elements.
"""
from __future__ import annotations

import html
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from hwprobe.appliance.pagemap import PAGES
from simulator.control import send

ROOT = Path(__file__).resolve().parent.parent
C = PAGES["common"]
GOOD_PASSWORD = "Tr4il-Head!"


class Sim:
    """One simulator subprocess with its own state directory."""

    def __init__(self, state_dir: Path, *extra: str):
        self.dir = Path(state_dir)
        self.extra = list(extra)
        self.proc: subprocess.Popen | None = None
        self.ready: dict = {}

    @property
    def control(self) -> str:
        return str(self.dir / "control.sock")

    @property
    def console_link(self) -> str:
        return str(self.dir / "console")

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.ready['https_port']}"

    @property
    def cert(self) -> str:
        return str(self.dir / "cert.pem")

    def start(self, *more: str) -> "Sim":
        argv = [sys.executable, "-m", "simulator", "serve", "--state-dir", str(self.dir),
                "--bind", "127.0.0.1", "--https-port", "0", "--http-port", "0",
                "--control", self.control, "--console-link", self.console_link,
                *self.extra, *more]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=open(self.dir / "sim.log", "a"),
                                     text=True, env=env, cwd=ROOT)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("simulator died: " + (self.dir / "sim.log").read_text()[-2000:])
        self.ready = json.loads(line)
        assert self.ready["ready"] is True
        return self

    def stop(self) -> int:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait()
        return self.proc.returncode if self.proc else 0

    def restart(self, *more: str) -> "Sim":
        self.stop()
        return self.start(*more)

    def state(self) -> dict:
        return send(self.control, get="state")["state"]

    def stats(self) -> dict:
        return send(self.control, get="stats")

    def fault(self, name: str, value=None) -> dict:
        return send(self.control, fault=name, value=value)

    def browser(self) -> "Browser":
        return Browser(self)


class Browser:
    """A technician's browser: one requests session, certificate verified."""

    def __init__(self, sim: Sim):
        self.sim = sim
        self.http = requests.Session()
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
        self.http.verify = sim.cert
        self.csrf = ""
        self.last: requests.Response | None = None

    def get(self, path: str, **kw) -> requests.Response:
        r = self.http.get(self.sim.base + path, allow_redirects=kw.pop("allow_redirects", False),
                          timeout=kw.pop("timeout", 20), **kw)
        self._remember(r)
        return r

    def post(self, path: str, fields: dict, csrf: str | None = None, **kw) -> requests.Response:
        data = {C["csrf_field"]: self.csrf if csrf is None else csrf, **fields}
        r = self.http.post(self.sim.base + path, data=data, allow_redirects=False,
                           timeout=kw.pop("timeout", 20), **kw)
        self._remember(r)
        return r

    def _remember(self, r: requests.Response) -> None:
        self.last = r
        m = re.search(rf'name="{C["csrf_field"]}" value="([^"]*)"', r.text)
        if m:
            self.csrf = html.unescape(m.group(1))

    def login(self, username: str = "admin", password: str = "password") -> requests.Response:
        self.get(PAGES["login"]["path"])
        return self.post(PAGES["login"]["path"], {PAGES["login"]["username"]: username,
                                                  PAGES["login"]["password"]: password})

    def change_password(self, current: str, new: str, confirm: str | None = None) -> requests.Response:
        p = PAGES["change_password"]
        self.get(p["path"])
        return self.post(p["path"], {p["current"]: current, p["new"]: new,
                                     p["confirm"]: new if confirm is None else confirm})

    def ready(self, password: str = GOOD_PASSWORD) -> "Browser":
        """Log in with the factory password and change it (a fresh appliance)."""
        self.login()
        r = self.change_password("password", password)
        assert r.status_code == 303, error_of(r)
        return self

    def save(self, page: str, action: str, fields: dict) -> requests.Response:
        """Open ``page`` (for its CSRF token) and submit a form to ``action``."""
        self.get(page)
        return self.post(action, fields)


def error_of(r: requests.Response) -> str:
    m = re.search(rf'class="{C["error_class"]}">(.*?)</', r.text, re.S)
    return html.unescape(m.group(1)) if m else ""


def notice_of(r: requests.Response) -> str:
    m = re.search(rf'class="{C["notice_class"]}">(.*?)</', r.text, re.S)
    return html.unescape(m.group(1)) if m else ""


def value_of(r: requests.Response, name: str) -> str:
    m = re.search(rf'id="{name}">(.*?)</', r.text, re.S)
    return html.unescape(m.group(1)) if m else ""


def table_rows(r: requests.Response, table_id: str) -> list[list[str]]:
    m = re.search(rf'<table id="{table_id}">(.*?)</table>', r.text, re.S)
    assert m, f"no table {table_id}"
    body = m.group(1).split("<tbody>", 1)[-1]
    return [[html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def wait_until(check, timeout: float = 20.0, step: float = 0.1):
    """Poll ``check()`` until it returns something truthy (not a timing assertion:
    only a generous ceiling so a broken simulator fails instead of hanging)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s: {check}")
        time.sleep(step)
