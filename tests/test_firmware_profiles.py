"""Firmware profiles of the page map (issue 13): the simulator serves either,
the driver picks one from Status > Basics' software version and the sheet is
checked against its limits before the first setting is changed."""
from __future__ import annotations

import json

import pytest

from hwprobe.appliance.pagemap import profile_for, profiles
from simulator import control
from test_apply_lab import ADDR, EXAMPLE, FIRST, LATER, NEW_PASSWORD, bringup, ten_syslog_sheet

pytestmark = pytest.mark.lab


def test_profiles_are_picked_by_software_version():
    assert set(profiles()) >= {"legacy", "current"}
    assert profile_for("7.1.2")[0] == "legacy" and profile_for("24.1.1")[0] == "current"
    assert profile_for("7.1.2")[1]["syslog_servers"] == 10
    assert profile_for("24.1.1")[1]["syslog_servers"] == 3
    assert profile_for("99.0") is None


def test_format1_sheet_with_ten_syslog_servers_refused_by_current_firmware(make_lab, tmp_path,
                                                                           state_dir):
    lab = make_lab(appliance_address=ADDR, sim_args=["--firmware", "current"])
    before = control.send(lab.control, get="state")["state"]
    assert before["software_version"] == "24.1.1"
    r = bringup(lab, "apply", "--sheet", str(ten_syslog_sheet(tmp_path)), "--address", ADDR,
                "--iface", "lan0", env_extra=FIRST, state_dir=state_dir)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "this appliance takes 3 syslog servers; the sheet has 10" in r.stderr
    assert "software 24.1.1" in r.stderr and "Traceback" not in r.stderr
    after = control.send(lab.control, get="state")["state"]
    for key in ("ips", "hostname", "dns_servers", "syslog_servers", "ntp_servers"):
        assert after[key] == before[key], key


def test_a_renamed_field_is_the_one_survey_reports_missing_and_apply_changes_nothing(
        make_lab, tmp_path, state_dir):
    lab = make_lab(appliance_address=ADDR, sim_args=["--rename-field", "hostname=host_name"])
    hint = "Run `bringup survey --address 169.254.1.3 --iface lan0` and send the archive"
    # the first login's forced password change opens the pages; reading them stops
    r = bringup(lab, "capture", "--address", ADDR, "--iface", "lan0", "--out",
                str(tmp_path / "c.toml"), env_extra={"BRINGUP_NEW_PASSWORD": NEW_PASSWORD},
                state_dir=state_dir)
    assert r.returncode == 1 and hint in r.stderr, r.stderr
    assert not (tmp_path / "c.toml").exists()
    before = control.send(lab.control, get="state")["state"]

    out = tmp_path / "survey"
    out.mkdir()
    r = bringup(lab, "survey", "--address", ADDR, "--iface", "lan0", "--out", str(out), "--json",
                env_extra=LATER, state_dir=state_dir)
    assert r.returncode == 1, r.stderr
    survey = json.loads(r.stdout)
    status = {(f["field"], f["status"]) for p in survey["pages"] for f in p["fields"]
              if f["status"] != "found"}
    assert status == {("hostname", "missing"), ("host_name", "unexpected")}
    assert survey["software_version"] == "7.1.2" and len(list(out.glob("survey-*.tar.gz"))) == 1

    r = bringup(lab, "apply", "--sheet", str(EXAMPLE), "--address", ADDR, "--iface", "lan0",
                env_extra=LATER, state_dir=state_dir)
    assert r.returncode == 1, r.stdout + r.stderr
    assert ("Networking > IP Configuration does not match what bringup knows of this firmware: "
            "no form field 'hostname' (software 7.1.2, firmware profile legacy). Nothing was "
            "changed.") in r.stderr and hint in r.stderr and "Traceback" not in r.stderr
    assert control.send(lab.control, get="state")["state"] == before
    assert set(control.send(lab.control, get="stats")["changes"]) == {"change_password"}
