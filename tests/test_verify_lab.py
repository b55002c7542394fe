"""`bringup verify` against a lab with the production network: real dnsmasq,
chronyd, rsyslog and an aiosmtpd relay, and a simulated appliance that uses its
settings against them. After apply and verify, the services themselves hold
the proof (the mail spool, rsyslog's file, dnsmasq's query log, NTP status);
sheets that read back cleanly but name a wrong DNS server, a wrong relay port
or an unreachable syslog server are caught by verify, named, and exit 1."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from simulator import production


pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = (ROOT / "assets" / "example-sheet.toml").read_text()
NEW_PASSWORD = "Verify-Run-4am!q"
SMTP_PASSWORD = "Relay-Lab#Pass-27"
LAPTOP_PRODUCTION = "198.51.100.250/24"


def bringup(lab, *args, env_extra, state_dir):
    """``bringup ARGS`` in the lab's laptop namespace, passwords only from ``env_extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRINGUP_")}
    env.update({"BRINGUP_STATE_DIR": str(state_dir), "PYTHONPATH": str(ROOT), **env_extra})
    return subprocess.run(["ip", "netns", "exec", lab.laptop_ns, sys.executable, "-m", "bringup",
                           *args], env=env, capture_output=True, text=True, timeout=180,
                          stdin=subprocess.DEVNULL)


def _sheet(tmp_path: Path, name: str, *edits: tuple[str, str]) -> Path:
    text = EXAMPLE
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def _apply_then_verify(lab, sheet: Path, state_dir) -> tuple[dict, subprocess.CompletedProcess]:
    """apply over the factory link (lan0 taken and given back), then move the
    laptop onto the production network and verify on the production address."""
    r = bringup(lab, "apply", "--sheet", str(sheet), "--address", "169.254.1.1", "--iface", "lan0",
                "--json", env_extra={"BRINGUP_NEW_PASSWORD": NEW_PASSWORD,
                                     "BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD},
                state_dir=state_dir)
    assert r.returncode == 0, r.stdout[-1500:] + r.stderr[-1500:]
    subprocess.run(["ip", "-n", lab.laptop_ns, "addr", "add", LAPTOP_PRODUCTION, "dev", "lan0"],
                   check=True)
    v = bringup(lab, "verify", "--sheet", str(sheet), "--address", "198.51.100.20", "--json",
                env_extra={"BRINGUP_PASSWORD": NEW_PASSWORD}, state_dir=state_dir)
    return json.loads(v.stdout), v


def _check(result: dict, service: str, target: str) -> dict:
    found = [c for c in result["checks"] if c["service"] == service and c["target"] == target]
    assert found, f"no {service} check for {target}: {result['checks']}"
    return found[0]


@pytest.mark.parametrize("variant", ["starttls-587-rfc5424", "tls-465-bsd"])
def test_after_apply_and_verify_the_real_services_hold_the_appliances_mail_syslog_and_lookups(
        make_lab, tmp_path, state_dir, variant):
    edits = [] if variant.startswith("starttls") else [
        ('port = 587\nencryption = "starttls"', 'port = 465\nencryption = "tls"'),
        ('format = "rfc5424"', 'format = "bsd"')]
    sheet = _sheet(tmp_path, variant, *edits)
    lab = make_lab(production=("nic1", "nic2"), smtp_password=SMTP_PASSWORD)
    result, v = _apply_then_verify(lab, sheet, state_dir)

    assert v.returncode == 0, v.stdout[-3000:] + v.stderr[-1500:]
    assert result["ok"] and all(c["reached"] for c in result["checks"])
    # the relay holds the test e-mail, from the sheet's address to its contacts,
    # sent with the sheet's encryption and login
    mail = production.received_mail(lab)
    assert mail, "the relay received no mail"
    port = 587 if variant.startswith("starttls") else 465
    assert [(m["port"], m["tls"], m["user"], m["mail_from"], m["rcpt_tos"]) for m in mail] == [
        (port, True, "bt-alerts", "bt-alerts@example.net", ["noc@example.net"])]
    # the syslog receiver got the appliance's own events in the sheet's format
    got = [m for m in production.received_syslog(lab) if m["peer"] == "198.51.100.20"]
    texts = [m["message"] for m in got]
    assert any("user admin logged in" in t for t in texts), texts
    assert any("test message from Support > Utilities" in t for t in texts), texts
    shape = (r"^<134>1 \d{4}-\d\d-\d\dT[\d:.]+Z support\.example\.net appliance - - - "
             if variant.endswith("rfc5424") else
             r"^<134>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d support\.example\.net appliance: ")
    assert all(re.match(shape, t) for t in texts), texts
    # the sheet's names were resolved through the configured DNS server
    queries = (Path(lab.production["dir"]) / "dnsmasq.log").read_text()
    for name in ("mail.example.net", "ntp.example.net", "support.example.net"):
        assert f"query[A] {name} from 198.51.100.20" in queries, name
    assert "query[A] mail.example.net from 203.0.113.20" in queries   # the 2nd server, on NIC2
    # NTP shows synced, in the appliance's words
    sync = _check(result, "ntp", "sync status")
    assert sync["reached"] and sync["words"] == "synchronized with 198.51.100.123"
    assert "stratum 8" in _check(result, "ntp", "ntp.example.net")["words"]
    # the verify report and the run's report have every check, and no password
    report = Path(result["report"]).read_text()
    assert "every service reached" in report and "NOT REACHED" not in report
    run_json = json.loads(Path(result["run_report"]).read_text())
    assert run_json["verify"]["ok"] is True and len(run_json["verify"]["checks"]) == len(result["checks"])
    run_md = Path(result["run_report"]).with_suffix(".md").read_text()
    assert "## Verify on 198.51.100.20: every service reached" in run_md
    assert "## Steps" in run_md          # the run's own part is still there
    for secret in (NEW_PASSWORD, SMTP_PASSWORD):
        assert secret not in report + run_md and secret not in v.stdout + v.stderr


def test_verify_names_a_wrong_dns_server_a_wrong_relay_port_and_an_unreachable_syslog_server(
        make_lab, tmp_path, state_dir):
    sheet = _sheet(tmp_path, "wrong",
                   ('dns_servers = ["198.51.100.53", "203.0.113.53"]', 'dns_servers = ["198.51.100.99"]'),
                   ("port = 587", "port = 2525"),
                   ('servers = ["198.51.100.5"]', 'servers = ["198.51.100.9"]'))
    lab = make_lab(production=("nic1", "nic2"), smtp_password=SMTP_PASSWORD)
    result, v = _apply_then_verify(lab, sheet, state_dir)

    assert v.returncode == 1, v.stdout[-3000:] + v.stderr[-1500:]
    # it read back cleanly: the sheet is stored, it just does not work
    assert _check(result, "settings", "read back")["reached"]
    assert _check(result, "health", "/check_health")["reached"]
    dns = _check(result, "dns", "198.51.100.99")
    assert not dns["reached"] and "DNS server 198.51.100.99: no answer" in dns["words"]
    smtp = _check(result, "smtp", "test email via mail.example.net:2525")
    assert not smtp["reached"] and "cannot resolve mail.example.net" in smtp["words"]
    syslog = _check(result, "syslog", "syslog 198.51.100.9")
    assert not syslog["reached"]
    assert not production.received_mail(lab)
    assert not [m for m in production.received_syslog(lab) if m["peer"] == "198.51.100.20"]
    report = Path(result["report"]).read_text()
    assert "NOT every service reached" in report and "198.51.100.99" in report
    run_md = Path(result["run_report"]).with_suffix(".md").read_text()
    assert "## Verify on 198.51.100.20: NOT every service reached" in run_md


def test_verify_names_a_wrong_relay_port_and_the_dns_server_behind_a_nic2_not_cabled(
        make_lab, tmp_path, state_dir):
    sheet = _sheet(tmp_path, "port", ("port = 587", "port = 2525"))
    lab = make_lab(production=("nic1",), smtp_password=SMTP_PASSWORD)   # NIC2 not on production
    result, v = _apply_then_verify(lab, sheet, state_dir)

    assert v.returncode == 1
    smtp = _check(result, "smtp", "test email via mail.example.net:2525")
    assert not smtp["reached"]
    assert smtp["words"] == ("Test email not sent via mail.example.net:2525 (STARTTLS): "
                             "connection refused")
    assert [c["target"] for c in result["checks"] if not c["reached"]] == [
        "test email via mail.example.net:2525", "203.0.113.53"]
    assert not production.received_mail(lab)
    # the same, as a technician reads it on the terminal
    t = bringup(lab, "verify", "--sheet", str(sheet), "--address", "198.51.100.20",
                env_extra={"BRINGUP_PASSWORD": NEW_PASSWORD}, state_dir=state_dir)
    assert t.returncode == 1, t.stderr[-1500:]
    assert ("[NOT REACHED] smtp     test email via mail.example.net:2525: Test email not sent "
            "via mail.example.net:2525 (STARTTLS): connection refused") in t.stdout
    assert "[         ok] ntp      sync status: synchronized with 198.51.100.123" in t.stdout
    assert "2 check(s) NOT reached: smtp test email via mail.example.net:2525, dns 203.0.113.53" in t.stdout
    assert "added to the run's report:" in t.stdout and "Traceback" not in t.stderr


def test_lab_down_ends_the_production_services_and_their_namespace_even_without_lab_json(
        make_lab):
    lab = make_lab(production=("nic1",), smtp_password=SMTP_PASSWORD)
    pids = list(lab.production["pids"].values())
    assert len(pids) == 4 and all(Path(f"/proc/{pid}").exists() for pid in pids)
    from simulator import lab as labmod

    (Path(lab.dir) / "lab.json").unlink()       # as after a crash of `lab up`
    assert labmod.down(lab.name)
    assert f"{lab.name}-prod" not in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                                    text=True).stdout
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or labmod._alive(pid) is False
