"""`bringup kit` and `bringup readiness --kit` against appliances in
production in the lab, as a technician runs them from the laptop namespace:
the kit from a site and from a pair's primary is fit; the certificate opens
with `openssl pkcs12`; no secret is anywhere on disk; each refusal is one
line and leaves nothing; a kill mid-download never looks complete."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import PAIR_CLIENT
from lab_helpers import bringup_argv, bringup_env, no_traceback, run_bringup
from hwprobe.settings.kit import MANIFEST
from hwprobe.settings.sheet import load_sheet
from simulator import control
from simulator.lab import PAIR
from site_helpers import SITE_SECRETS, made_secrets, secrets_in

pytestmark = [pytest.mark.lab, pytest.mark.xdist_group("site-lab")]
ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "assets" / "example-sheet.toml"
KIT_SECRETS = {"BRINGUP_BACKUP_PASSWORD": "Backup-Pw-For-Kit-31",
               "BRINGUP_CERTIFICATE_PASSPHRASE": "Cert-Passphrase-Kit-47"}
SITE_ENV = {**SITE_SECRETS, **KIT_SECRETS}
SECRETS = (SITE_SECRETS["BRINGUP_PASSWORD"], SITE_SECRETS["BRINGUP_API_SECRET"],
           *KIT_SECRETS.values())


def kit(lab, out: Path, state_dir, env: dict, *extra: str):
    return run_bringup(lab, "kit", "--address", PAIR["primary"], "--out", str(out), *extra,
                       state_dir=state_dir, env_extra=env)


def readiness(lab, folder: Path, state_dir, passphrase=KIT_SECRETS["BRINGUP_CERTIFICATE_PASSPHRASE"]):
    return run_bringup(lab, "readiness", "--kit", str(folder), state_dir=state_dir,
                       env_extra={"BRINGUP_CERTIFICATE_PASSPHRASE": passphrase})


def found_secrets(*places: Path) -> list[str]:
    """Every (file, secret) where one of SECRETS shows in clear."""
    return secrets_in(places, SECRETS)


@pytest.fixture
def site(site_lab):
    yield site_lab
    control.send(site_lab.control, fault="clear")


def test_a_kit_from_the_site_is_fit_opens_with_openssl_and_holds_no_secret(site, tmp_path, state_dir):
    out = tmp_path / "kit"
    r = kit(site, out, state_dir, SITE_ENV, "--update-file", site.site["update_file"], "--json")
    assert r.returncode == 0, r.stderr
    manifest = json.loads((out / MANIFEST).read_text())
    assert json.loads(r.stdout)["manifest"] == manifest
    a = manifest["appliance"]
    assert (a["model"], a["serial"], a["software_version"], a["base_version"]) == (
        "B400", "B400-0012345", "7.1.2", "6.0.2")
    assert a["system_time"].endswith("UTC") and a["failover_role"] == "none"
    assert manifest["certificate"]["hostname"] == "support.example.net"
    assert set(manifest["files"]) == {"sheet", "login_backup", "certificate", "site_update"}
    assert manifest["files"]["site_update"]["name"] == "site-update.nsu"
    assert oct(out.stat().st_mode & 0o777) == "0o700"
    assert {oct(p.stat().st_mode & 0o777) for p in out.iterdir()} == {"0o600"}
    # the sheet is the site's: what the appliance was set up from
    assert load_sheet(out / manifest["files"]["sheet"]["name"]) == load_sheet(EXAMPLE)

    r = readiness(site, out, state_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "fit" in r.stdout and "0 days ago" in r.stdout

    p12 = out / manifest["files"]["certificate"]["name"]
    shown = subprocess.run(["openssl", "pkcs12", "-in", str(p12), "-nodes", "-passin",
                            "env:P12PASS"], capture_output=True, text=True,
                           env={"PATH": os.environ["PATH"],
                                "P12PASS": KIT_SECRETS["BRINGUP_CERTIFICATE_PASSPHRASE"]})
    assert shown.returncode == 0, shown.stderr
    assert "-----BEGIN PRIVATE KEY-----" in shown.stdout
    assert "subject=O = Example Net, CN = support.example.net" in shown.stdout
    assert "issuer=O = Example Net, CN = Example Site CA" in shown.stdout

    assert found_secrets(out, state_dir) == []
    assert (state_dir / "bringup.log").exists()
    assert no_traceback(r.stdout, r.stderr)


def test_a_kit_from_the_pairs_primary_is_fit_and_says_its_role(pair, tmp_path, state_dir):
    env = {"BRINGUP_PASSWORD": made_secrets(pair)["appliance_password"],
           "BRINGUP_API_CLIENT_ID": PAIR_CLIENT[0], "BRINGUP_API_SECRET": PAIR_CLIENT[1],
           **KIT_SECRETS}
    out = tmp_path / "kit"
    r = kit(pair, out, state_dir, env)
    assert r.returncode == 0, r.stderr
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["appliance"]["failover_role"] == "primary"
    assert manifest["certificate"]["alternative_names"] == ["support.example.net",
                                                             "support-backup.example.net"]
    r = readiness(pair, out, state_dir)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("case", ["wrong API secret", "no backup permission"])
def test_the_api_refusals_are_one_line_and_leave_nothing(site, tmp_path, state_dir, case):
    made = made_secrets(site)
    env = dict(SITE_ENV)
    if case == "wrong API secret":
        env["BRINGUP_API_SECRET"] = "Not-The-Api-Secret-1"
        said = "refused the API client id or secret"
    else:
        env["BRINGUP_API_CLIENT_ID"] = made["monitor_client_id"]
        env["BRINGUP_API_SECRET"] = made["monitor_client_secret"]
        said = "may not use the backup API"
    out = tmp_path / "kit"
    r = kit(site, out, state_dir, env)
    assert r.returncode == 1, r.stdout + r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("bringup: ")
              and not line.startswith(("bringup: finding", "bringup: reading", "bringup: logging",
                                       "bringup: exporting", "bringup: writing",
                                       "bringup: downloading"))]
    assert len(errors) == 1 and said in errors[0], r.stderr
    assert not out.exists()
    assert no_traceback(r.stdout, r.stderr) and env["BRINGUP_API_SECRET"] not in r.stderr


def test_readiness_refuses_a_wrong_passphrase_and_a_byte_changed(site, tmp_path, state_dir):
    out = tmp_path / "kit"
    assert kit(site, out, state_dir, SITE_ENV).returncode == 0
    r = readiness(site, out, state_dir, passphrase="Not-The-Passphrase-9")
    assert r.returncode == 1
    assert [line for line in r.stdout.splitlines() if "passphrase does not open" in line]
    assert len([line for line in r.stdout.splitlines() if not line.startswith(("recovery kit",
                                                                               "  "))]) == 1
    changed = tmp_path / "changed"
    shutil.copytree(out, changed)
    nsb = next(changed.glob("login-backup-*.nsb"))
    data = bytearray(nsb.read_bytes())
    data[len(data) // 2] ^= 0x40
    nsb.write_bytes(bytes(data))
    r = readiness(site, changed, state_dir)
    assert r.returncode == 1
    [line] = [line for line in r.stdout.splitlines() if not line.startswith(("recovery kit", "  "))]
    assert line.startswith(nsb.name) and "SHA-256 does not match" in line
    r = readiness(site, tmp_path / "no-such-kit", state_dir)
    assert r.returncode == 2 and "no such folder" in r.stderr


def test_a_kit_killed_mid_download_never_looks_complete_and_the_next_run_finishes_it(
        site, tmp_path, state_dir):
    control.send(site.control, fault="large_backup", value=40_000_000)
    control.send(site.control, fault="backup_rate", value=4_000_000)
    out = tmp_path / "kit"
    argv = bringup_argv(site, "kit", "--address", PAIR["primary"], "--out", str(out))
    proc = subprocess.Popen(argv, env=bringup_env(state_dir, SITE_ENV), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    part = None
    while time.monotonic() < deadline and proc.poll() is None:
        part = next(out.glob(".login-backup-*.nsb.part"), None) if out.exists() else None
        if part is not None and part.stat().st_size > 2_000_000:
            break
        time.sleep(0.05)
    assert part is not None and proc.poll() is None, "the download never got going"
    os.kill(proc.pid, signal.SIGKILL)       # ip netns exec execs: this is bringup itself
    proc.wait(10)
    left = sorted(p.name for p in out.iterdir())
    assert MANIFEST not in left and all(n.startswith(".") and n.endswith(".part") for n in left)
    r = readiness(site, out, state_dir)
    assert r.returncode == 1 and "not complete" in r.stdout
    assert "interrupted while writing" in r.stdout

    control.send(site.control, fault="clear")
    r = kit(site, out, state_dir, SITE_ENV)
    assert r.returncode == 0, r.stderr
    assert "left in" in r.stderr and "by an interrupted kit" in r.stderr
    assert readiness(site, out, state_dir).returncode == 0
