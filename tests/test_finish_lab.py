"""`bringup apply --kit` against factory appliances in the lab, with a kit
taken from `lab up --site` (the shared site lab): the finish reaches a
working site (the kit's certificate to a client naming the site, the
backup's API account answering check_health with the site's hostname,
verify passing, the laptop port given back); runs killed during the
certificate import, the restart and the NSB upload converge with one import,
one install and one restore counted by the simulator; four refusals are one
clear line each and change nothing; a dry run sends nothing and says what
each finish step would do; `bringup restore-login` (the hosted site's path)
is the same step."""
from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
import urllib3
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from finish_helpers import (
    FINISH_ENV, HOSTNAME, IMPORT, KIT_SECRETS, QUICK, apply_kit, copy_kit, counted,
    found_secrets, login_state, replace_in_kit, served, site_answers, start_apply_kit, stats,
    take_kit, wait_for)
from lab_helpers import NEW_PASSWORD, SMTP_PASSWORD, no_traceback, port_state, reports, run_bringup
from simulator import control, nsb
from simulator import lab as labmod
from simulator.siteca import SiteCA

pytestmark = [pytest.mark.lab, pytest.mark.xdist_group("site-lab"),
              pytest.mark.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)]
RESTORE = "POST /login/management/software/restore"


def _manifest(kit: Path) -> dict:
    return json.loads((kit / "manifest.json").read_text())


def _sheet(kit: Path) -> Path:
    return kit / _manifest(kit)["files"]["sheet"]["name"]


def _kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)       # ip netns exec execs: this is bringup itself
    proc.wait(10)


def test_apply_kit_on_a_factory_appliance_on_nic2_reaches_a_working_site(
        make_lab, kit, state_dir):
    lab = make_lab(appliance_address="169.254.1.3", answers_on="nic2", plug="nic1",
                   production=("nic1", "nic2"), smtp_password=SMTP_PASSWORD, sim_args=QUICK)
    before = port_state(lab.laptop_ns)

    r = apply_kit(lab, kit, state_dir)
    assert r.returncode == 1 and "move it and run again" in r.stderr, r.stdout + r.stderr
    assert counted(lab) == {"imports": 0, "installs": 0, "restores": 0}
    labmod.plug(lab.name, "nic2")

    r = apply_kit(lab, kit, state_dir)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    for line in ("[done] Certificate: imported", "[done] Site software: installed site software "
                 "7.1.2 for support.example.net from the kit's update file site-update.nsu",
                 "[done] /login backup: restored"):
        assert line in r.stdout, r.stdout
    assert "note: your cable is in NIC2" in r.stdout
    # the last line is the run's outcome: ready only with every finish step done
    assert r.stdout.splitlines()[-1].startswith("READY: every change applied and read back "), \
        r.stdout[-1500:]
    assert "and the site finished (3 of 3 finish step(s) done)" in r.stdout.splitlines()[-1]
    assert port_state(lab.laptop_ns) == before           # the laptop port is given back
    assert counted(lab) == {"imports": 1, "installs": 1, "restores": 1}

    # from outside, as the site's clients and monitoring see it, after the cables
    # move: the laptop on the production network (NIC1's switch)
    labmod.plug(lab.name, "nic1")
    subprocess.run(["ip", "-n", lab.laptop_ns, "addr", "add", "198.51.100.250/24", "dev", "lan0"],
                   check=True)
    assert served(lab, "198.51.100.20", HOSTNAME) == _manifest(kit)["certificate"]["sha256"]
    assert site_answers(lab, "198.51.100.20") == (200, HOSTNAME)
    v = run_bringup(lab, "verify", "--sheet", str(_sheet(kit)), "--address", "198.51.100.20",
                    state_dir=state_dir, env_extra={"BRINGUP_PASSWORD": NEW_PASSWORD})
    assert v.returncode == 0, v.stdout[-3000:] + v.stderr[-1500:]
    assert "every service reached" in v.stdout

    md = [p for p in reports(state_dir) if "-verify-" not in p.name][-1]    # the second run's
    text = md.read_text()
    assert "## Finish of the site" in text and text.count("| [x] |") >= 12   # 9 settings + 3
    rep = json.loads(md.with_suffix(".json").read_text())
    assert [s["status"] for s in rep["finish"]["steps"]] == ["done"] * 3 and rep["ok"]
    assert rep["verify"]["ok"]
    assert found_secrets(state_dir, kit) == []
    assert no_traceback(r.stdout, r.stderr)


def test_runs_killed_in_the_import_the_restart_and_the_upload_converge_importing_and_restoring_once(
        make_lab, kit, state_dir):
    lab = make_lab(appliance_address="169.254.1.3", answers_on="nic2", plug="nic2",
                   sim_args=("--install-seconds", "8", "--login-restart-seconds", "1"))
    before = port_state(lab.laptop_ns)
    # killed while the certificate is being uploaded (the appliance reads slowly)
    control.send(lab.control, fault="upload_rate", value=300)
    proc = start_apply_kit(lab, kit, state_dir)
    wait_for(lambda: IMPORT in stats(lab)["log"] or proc.poll() is not None)
    assert proc.poll() is None, proc.communicate()
    _kill(proc)
    control.send(lab.control, fault="upload_rate", value=0)
    assert counted(lab)["imports"] == 0

    # killed while the appliance restarts after installing the site software
    proc = start_apply_kit(lab, kit, state_dir)
    wait_for(lambda: stats(lab)["faults"]["rebooting"] or proc.poll() is not None)
    assert proc.poll() is None, proc.communicate()
    _kill(proc)
    assert counted(lab) == {"imports": 1, "installs": 1, "restores": 0}

    # killed in the middle of the NSB's upload (the run first waits out the restart)
    control.send(lab.control, fault="upload_rate", value=300)
    proc = start_apply_kit(lab, kit, state_dir)
    wait_for(lambda: RESTORE in stats(lab)["log"] or proc.poll() is not None, timeout=90)
    assert proc.poll() is None, proc.communicate()
    _kill(proc)
    control.send(lab.control, fault="upload_rate", value=0)
    assert counted(lab)["restores"] == 0

    r = apply_kit(lab, kit, state_dir)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "[same] Certificate: already the default" in r.stdout
    assert "[same] Site software: site software 7.1.2" in r.stdout
    assert "[done] /login backup: restored" in r.stdout
    assert counted(lab) == {"imports": 1, "installs": 1, "restores": 1}
    assert port_state(lab.laptop_ns) == before
    assert site_answers_through_factory(lab) == (200, HOSTNAME)


def site_answers_through_factory(lab) -> tuple[int, str]:
    """The backup's API account, asked over the factory link (lan0 given an
    address of its own for it)."""
    subprocess.run(["ip", "-n", lab.laptop_ns, "addr", "add", "169.254.1.254/24", "dev", "lan0"],
                   check=True)
    try:
        return site_answers(lab, "169.254.1.3")
    finally:
        subprocess.run(["ip", "-n", lab.laptop_ns, "addr", "del", "169.254.1.254/24", "dev",
                        "lan0"], check=True)


def _other_host_certificate(site_lab) -> bytes:
    ca = SiteCA.load(Path(site_lab.dir) / "site-ca")
    cert, key = ca.issue(["other.example.net"])
    return pkcs12.serialize_key_and_certificates(
        b"other", key, cert, [ca.cert], serialization.BestAvailableEncryption(
            KIT_SECRETS["BRINGUP_CERTIFICATE_PASSPHRASE"].encode()))


def _newer_nsb(kit: Path) -> bytes:
    """The kit's backup as software 24.1.1 would have made it."""
    path = kit / _manifest(kit)["files"]["login_backup"]["name"]
    with open(path, "rb") as f:
        header, state = nsb.read_state(f, KIT_SECRETS["BRINGUP_BACKUP_PASSWORD"])
    about = {k: header[k] for k in ("serial", "hostname", "base_version") if k in header}
    return b"".join(nsb.Writer(state, KIT_SECRETS["BRINGUP_BACKUP_PASSWORD"],
                               about={**about, "software_version": "24.1.1"}))


def test_refusals_are_one_line_and_change_nothing_then_restore_login_and_the_kit_finish_it(
        make_lab, kit, site_lab, state_dir, tmp_path):
    lab = make_lab(appliance_address="169.254.1.3", answers_on="nic2", plug="nic2",
                   sim_args=QUICK)
    before = port_state(lab.laptop_ns)
    # a certificate for another hostname: refused before anything is sent
    other = copy_kit(kit, tmp_path / "other")
    replace_in_kit(other, "certificate", _other_host_certificate(site_lab))
    r = apply_kit(lab, other, state_dir)
    assert r.returncode == 2, r.stdout + r.stderr
    [line] = [x for x in r.stderr.splitlines() if x.strip()]
    assert "the certificate is for other.example.net, not the sheet's hostname " \
           "support.example.net" in line and "Refused before anything was sent" in line
    assert stats(lab)["requests"] == {} and port_state(lab.laptop_ns) == before

    # a dry run sends nothing that saves and says what each finish step would do
    r = apply_kit(lab, kit, state_dir, "--dry-run")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "  Certificate: would import certificate-support.example.net" in r.stdout
    assert "  Site software: would install the site software from the kit's update file" in r.stdout
    assert "  /login backup: would upload login-backup-" in r.stdout
    assert set(stats(lab)["saved"]) == {"POST /appliance/login"}     # logging in changes nothing

    # the appliance refuses a damaged NSB, a wrong backup password, a newer NSB
    damaged = copy_kit(kit, tmp_path / "damaged")
    name = _manifest(kit)["files"]["login_backup"]["name"]
    data = bytearray((kit / name).read_bytes())
    data[len(data) // 2] ^= 0x01
    replace_in_kit(damaged, "login_backup", bytes(data))
    newer = copy_kit(kit, tmp_path / "newer")
    replace_in_kit(newer, "login_backup", _newer_nsb(kit))
    for folder, env, words in (
            (damaged, {}, "the backup file is damaged or not a backup"),
            (kit, {"BRINGUP_BACKUP_PASSWORD": "Not-The-Backup-Pw-8"}, "the backup password is wrong"),
            (newer, {}, "the backup was made by newer software than the appliance runs")):
        r = apply_kit(lab, folder, state_dir, env=env)
        assert r.returncode == 1, r.stdout + r.stderr
        [fail] = [x for x in r.stdout.splitlines() if x.startswith("[FAIL]")]
        assert fail.startswith("[FAIL] /login backup: the appliance refused the /login backup: "
                               + words) and fail.endswith("the appliance's /login is as it was")
        assert counted(lab) == {"imports": 1, "installs": 1, "restores": 0}
        assert "api_clients" not in login_state(lab)
        assert no_traceback(r.stdout, r.stderr)
        # never READY with a finish step not done: the last line and the report's first
        last = r.stdout.splitlines()[-1]
        assert last.startswith("NOT READY: 1 of 3 finish step(s) NOT done (/login backup): "
                               "leave the cables where they are"), last
        head = reports(state_dir)[-1].read_text().splitlines()[0]
        assert head.startswith("# NOT READY: 1 of 3 finish step(s) NOT done (/login backup)")

    # the hosted site's path, the same step: /login's credentials as Support sends them
    subprocess.run(["ip", "-n", lab.laptop_ns, "addr", "add", "169.254.1.254/24", "dev", "lan0"],
                   check=True)
    r = run_bringup(lab, "restore-login", "--address", "169.254.1.3", "--kit", str(kit),
                    state_dir=state_dir, env_extra={**FINISH_ENV,
                                                    "BRINGUP_LOGIN_PASSWORD": "password"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "[done] /login backup: restored" in r.stdout
    subprocess.run(["ip", "-n", lab.laptop_ns, "addr", "del", "169.254.1.254/24", "dev", "lan0"],
                   check=True)
    r = apply_kit(lab, kit, state_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "[same] /login backup: already restored" in r.stdout
    assert counted(lab) == {"imports": 1, "installs": 1, "restores": 1}
    assert found_secrets(state_dir) == []


def test_the_backup_of_a_pair_gets_the_certificate_and_the_failover_steps_instead_of_the_nsb(
        pair, make_lab, state_dir, tmp_path):
    from conftest import PAIR_CLIENT
    from simulator.lab import PAIR
    from site_helpers import made_secrets

    out = tmp_path / "kit"
    manifest = take_kit(pair, out, state_dir, address=PAIR["backup"], env={
        "BRINGUP_PASSWORD": made_secrets(pair)["appliance_password"],
        "BRINGUP_API_CLIENT_ID": PAIR_CLIENT[0], "BRINGUP_API_SECRET": PAIR_CLIENT[1]})
    assert manifest["appliance"]["failover_role"] == "backup"
    lab = make_lab(appliance_address="169.254.1.3", answers_on="nic2", plug="nic2",
                   sim_args=QUICK)
    # the backup's finish needs neither the backup password nor an API account
    r = apply_kit(lab, out, state_dir, env={"BRINGUP_BACKUP_PASSWORD": "",
                                            "BRINGUP_API_CLIENT_ID": "", "BRINGUP_API_SECRET": ""})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "[done] Certificate: imported" in r.stdout
    assert "[done] Site software: installed" in r.stdout
    assert ("[skip] /login backup: not restored: this appliance replaces the backup of a "
            "failover pair, and restoring a /login backup there is not advisable: it would "
            "overwrite the appliance's failover settings and the key the two appliances share"
            ) in r.stdout
    steps = r.stdout.split("the failover steps, instead of the /login backup:\n", 1)[1]
    assert steps.startswith("  1. Leave /login on this appliance") and "Management > Failover" in steps
    # the failover steps are the technician's, by the guide: the finish is whole
    assert r.stdout.splitlines()[-1].startswith("READY: ") and \
        "(2 of 3 finish step(s) done, the rest not needed here)" in r.stdout.splitlines()[-1]
    assert counted(lab) == {"imports": 1, "installs": 1, "restores": 0}
    assert "api_clients" not in login_state(lab)
    assert served_through_factory(lab, manifest["certificate"]["hostname"]) == \
        manifest["certificate"]["sha256"]


def served_through_factory(lab, server_name: str) -> str:
    subprocess.run(["ip", "-n", lab.laptop_ns, "addr", "add", "169.254.1.254/24", "dev", "lan0"],
                   check=True)
    try:
        return served(lab, "169.254.1.3", server_name)
    finally:
        subprocess.run(["ip", "-n", lab.laptop_ns, "addr", "del", "169.254.1.254/24", "dev",
                        "lan0"], check=True)


def test_without_an_update_file_bringup_says_what_is_missing_then_installs_from_the_vendor(
        make_lab, kit, state_dir, tmp_path):
    offline = copy_kit(kit, tmp_path / "no-update")
    manifest = _manifest(offline)
    (offline / manifest["files"].pop("site_update")["name"]).unlink()
    (offline / "manifest.json").write_text(json.dumps(manifest, indent=2))
    lab = make_lab(appliance_address="169.254.1.3", answers_on="nic2", plug="nic2",
                   sim_args=QUICK)
    r = apply_kit(lab, offline, state_dir)
    assert r.returncode == 1, r.stdout + r.stderr
    [fail] = [x for x in r.stdout.splitlines() if x.startswith("[FAIL]")]
    assert fail.startswith("[FAIL] Site software: no site software: the kit holds no update "
                           "file and the appliance cannot reach the vendor")
    assert ("Download the site's update file for support.example.net (software 7.1.2) from the "
            "vendor's support portal") in fail and "--update-file FILE" in fail
    assert "[skip] /login backup: not tried: it needs the site software step" in r.stdout
    assert r.stdout.splitlines()[-1].startswith(
        "NOT READY: 2 of 3 finish step(s) NOT done (Site software; /login backup)")
    assert counted(lab) == {"imports": 1, "installs": 0, "restores": 0}

    control.send(lab.control, fault="update_server", value=True)   # the firewall lets it out
    r = apply_kit(lab, offline, state_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    assert ("[done] Site software: installed site software 7.1.2 for support.example.net from "
            "Updates (Site software 7.1.2 from the vendor)") in r.stdout
    assert counted(lab) == {"imports": 1, "installs": 1, "restores": 1}
