"""Appliances in production in a lab (``bringup lab up --site`` / ``--pair``),
and their /login API as a client on the laptop sees it.

``site_up(name, env)`` brings a site lab up through the command line, as a
technician would, with the secrets in the environment (never argv);
``api(lab, address)`` is an HTTPS client on the laptop's side of the lab.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
# the secrets a site lab is made with (tests' own; grepped for in every kit)
SITE_SECRETS = {
    "BRINGUP_PASSWORD": "Site-Appliance#Pw-41",
    "BRINGUP_API_CLIENT_ID": "kit-account",
    "BRINGUP_API_SECRET": "Api-Secret-For-Kit-9d2",
}


def site_up(name: str, *flags: str, env: dict | None = None):
    """``bringup lab up --name NAME FLAGS --json`` with ``env`` added; returns
    the Lab. AssertionError with its output when it fails."""
    from simulator import lab as labmod

    full = dict(os.environ, PYTHONPATH=str(ROOT))
    for key in SITE_SECRETS:
        full.pop(key, None)
    full.update(env or {})
    r = subprocess.run([sys.executable, "-m", "bringup", "lab", "up", "--name", name, *flags,
                        "--json"], capture_output=True, text=True, env=full, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout + r.stderr
    json.loads(r.stdout)
    return labmod.get(name)


def made_secrets(lab) -> dict:
    """What the lab made and kept in credentials.json (root only)."""
    return json.loads((Path(lab.dir) / "credentials.json").read_text())


class Api:
    """HTTPS to an appliance of the lab, from the laptop's namespace (the
    site's certificate is not checked here: the tests look at it themselves)."""

    def __init__(self, lab, address: str):
        self.lab, self.base = lab, f"https://{address}"

    def request(self, method: str, path: str, **kw) -> requests.Response:
        from simulator.netns import in_netns

        with in_netns(self.lab.laptop_ns):
            return requests.request(method, self.base + path, verify=False, timeout=30, **kw)

    def token(self, client_id: str, secret: str) -> str:
        r = self.request("POST", "/oauth2/token", auth=(client_id, secret),
                         data={"grant_type": "client_credentials"})
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def backup(self, token: str, password: str | None, **kw) -> requests.Response:
        body = None if password is None else {"password": password}
        return self.request("POST", "/api/backup", json=body,
                            headers={"Authorization": f"Bearer {token}"}, **kw)


def secrets_in(places, secrets) -> list[str]:
    """Every (file, secret) below ``places`` (files or folders) where one of
    ``secrets`` shows in clear (only its first letters are named)."""
    hits = []
    for place in places:
        for path in ([place] if place.is_file() else place.rglob("*")):
            if path.is_file():
                data = path.read_bytes()
                hits += [f"{path}: {s[:4]}..." for s in secrets if s.encode() in data]
    return hits
