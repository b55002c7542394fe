"""Failover drills against two paired simulated appliances: the backup is made
primary through the command API by `bringup failover promote`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PAIR_CLIENT
from simulator import lab as labmod
from simulator.lab import PAIR

pytestmark = pytest.mark.lab
ROOT = Path(__file__).resolve().parent.parent
CLIENT = PAIR_CLIENT


def failover(lab, *args, secret=CLIENT[1]):
    env = dict(os.environ, PYTHONPATH=str(ROOT), BRINGUP_API_CLIENT_ID=CLIENT[0],
               BRINGUP_API_SECRET=secret)
    return subprocess.run(["ip", "netns", "exec", lab.laptop_ns, sys.executable, "-m", "bringup",
                           "failover", *args, "--json"], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=60)


def role(lab, address):
    r = failover(lab, "status", "--address", address)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["role"]


def test_primary_down_backup_promoted_and_confirmed(pair):
    assert role(pair, PAIR["backup"]) == "backup"
    labmod.stop_appliance(pair.name, "primary")
    r = failover(pair, "promote", "--address", PAIR["backup"])
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["before"]["role"] == "backup" and out["after"]["role"] == "primary"
    assert "<success" in out["answer"]["xml"] and "Successfully changed role." in out["answer"]["xml"]
    assert role(pair, PAIR["backup"]) == "primary"


def test_promote_with_primary_up_demotes_it(pair):
    r = failover(pair, "promote", "--address", PAIR["backup"])
    assert r.returncode == 0, r.stderr
    assert role(pair, PAIR["primary"]) == "backup"


def test_wrong_secret_is_refused_and_changes_nothing(pair):
    labmod.stop_appliance(pair.name, "primary")
    r = failover(pair, "promote", "--address", PAIR["backup"], secret="not-the-secret")
    assert r.returncode == 1
    assert "refused the API client id or secret" in r.stderr
    assert "not-the-secret" not in r.stderr + r.stdout
    assert role(pair, PAIR["backup"]) == "backup"


def test_unreachable_peer_says_so(pair):
    r = failover(pair, "status", "--address", "198.51.100.99")
    assert r.returncode == 1 and "did not answer" in r.stderr


def test_error_answer_is_shown_and_nothing_changes(pair):
    labmod.stop_appliance(pair.name, "primary")
    r = failover(pair, "promote", "--address", PAIR["backup"], "--data-sync-first")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert not out["ok"] and "<error" in out["answer"]["xml"]
    assert "peer appliance" in out["answer"]["message"]
    assert role(pair, PAIR["backup"]) == "backup"
