"""`bringup kit` and `readiness --kit` refusals that need no lab: a simulated
appliance on 127.0.0.1 (kit runs without --iface, as at the office)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hwprobe.appliance.pagemap import PAGES
from sim_helpers import GOOD_PASSWORD, Sim

ROOT = Path(__file__).resolve().parent.parent
GLOBAL = PAGES["global_config"]
KIT_ENV = {"BRINGUP_PASSWORD": GOOD_PASSWORD, "BRINGUP_API_CLIENT_ID": "kit",
           "BRINGUP_API_SECRET": "Api-Secret-9", "BRINGUP_BACKUP_PASSWORD": "Backup-Pw-9",
           "BRINGUP_CERTIFICATE_PASSPHRASE": "Passphrase-9"}


def bringup(*args, env_extra, state_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRINGUP_")}
    env.update(PYTHONPATH=str(ROOT), BRINGUP_STATE_DIR=str(state_dir), **env_extra)
    return subprocess.run([sys.executable, "-m", "bringup", *args], capture_output=True,
                          text=True, env=env, stdin=subprocess.DEVNULL, timeout=60)


def test_a_kit_from_an_appliance_whose_certificates_do_not_cover_its_hostname_is_refused(
        tmp_path, state_dir):
    (tmp_path / "sim").mkdir()
    sim = Sim(tmp_path / "sim").start()
    try:
        b = sim.browser().ready()
        b.save(GLOBAL["page"], GLOBAL["action"], {GLOBAL["hostname"]: "support.example.net"})
        out = tmp_path / "kit"
        r = bringup("kit", "--address", "127.0.0.1", "--https-port", str(sim.ready["https_port"]),
                    "--out", str(out), env_extra=KIT_ENV, state_dir=state_dir)
    finally:
        sim.stop()
    assert r.returncode == 1, r.stderr
    [line] = [l for l in r.stderr.splitlines() if "no certificate" in l] or [r.stderr]
    assert "covers its hostname support.example.net" in line and "Factory certificate" in line
    assert not out.exists()


@pytest.mark.parametrize("env, said", [
    ({}, "BRINGUP_API_CLIENT_ID is not set"),
    ({"BRINGUP_API_CLIENT_ID": "kit", "BRINGUP_API_SECRET": "s", "BRINGUP_BACKUP_PASSWORD": "b"},
     "BRINGUP_CERTIFICATE_PASSPHRASE is not set"),
])
def test_a_secret_missing_without_a_terminal_is_bad_input_before_anything_is_contacted(
        tmp_path, state_dir, env, said):
    r = bringup("kit", "--address", "198.51.100.20", "--out", str(tmp_path / "kit"),
                env_extra=env, state_dir=state_dir)
    assert r.returncode == 2 and said in r.stderr, r.stderr
    assert not (tmp_path / "kit").exists()


def test_readiness_of_a_folder_that_is_no_kit_is_exit_2_and_of_a_half_kit_exit_1(
        tmp_path, state_dir):
    env = {"BRINGUP_CERTIFICATE_PASSPHRASE": "x"}
    r = bringup("readiness", "--kit", str(tmp_path / "missing"), env_extra=env, state_dir=state_dir)
    assert r.returncode == 2 and "no such folder" in r.stderr
    (tmp_path / "file").write_text("x")
    r = bringup("readiness", "--kit", str(tmp_path / "file"), env_extra=env, state_dir=state_dir)
    assert r.returncode == 2 and "not a folder" in r.stderr
    half = tmp_path / "half"
    half.mkdir()
    (half / ".login-backup-x.nsb.part").write_bytes(b"x" * 10)
    r = bringup("readiness", "--kit", str(half), env_extra=env, state_dir=state_dir)
    assert r.returncode == 1 and "not complete" in r.stdout
    (half / "manifest.json").write_text("[]")
    r = bringup("readiness", "--kit", str(half), env_extra=env, state_dir=state_dir)
    assert r.returncode == 2 and "not a kit manifest" in r.stderr
