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



# --- after bringup moved the appliance: trust, its own report, no guessing --------------
# One lab for these three (xdist keeps the group on one worker): apply moved a
# new appliance to 198.51.100.20, where an old appliance's certificate was
# pinned (its settings were captured there); a newer report of another
# appliance with the same serial (restored from the same sheet) lies beside
# this one's; the laptop has joined the production network.

MOVED = pytest.mark.xdist_group("verify-moved")


@pytest.fixture(scope="module")
def moved(tmp_path_factory):
    from conftest import require_lab
    from simulator import lab as labmod

    require_lab()
    state = tmp_path_factory.mktemp("moved-state")
    sheet = _sheet(tmp_path_factory.mktemp("moved-sheet"), "site")
    name = f"mv{os.getpid() % 100000}"
    labmod.down(name)
    lab = labmod.up(name=name, production=("nic1", "nic2"), smtp_password=SMTP_PASSWORD)
    try:
        _pin(state, "198.51.100.20", "ab" * 32)      # the old appliance, captured there
        r = bringup(lab, "apply", "--sheet", str(sheet), "--iface", "lan0", "--json",
                    env_extra={"BRINGUP_NEW_PASSWORD": NEW_PASSWORD,
                               "BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD}, state_dir=state)
        assert r.returncode == 0, r.stdout[-1500:] + r.stderr[-1500:]
        ours = Path(json.loads(r.stdout)["report"]).with_suffix(".json")
        mine = json.loads(ours.read_text())["appliance"]
        other = json.loads(ours.read_text())
        other["appliance"] = {**mine, "certificate_sha256": "CD:" * 31 + "CD",
                              "macs": ["02:b5:99:99:00:01", "02:b5:99:99:00:02"]}
        theirs = ours.with_name("29990101-000000-" + mine["serial"] + ".json")
        theirs.write_text(json.dumps(other))
        theirs.with_suffix(".md").write_text("# another appliance's report\n")
        subprocess.run(["ip", "-n", lab.laptop_ns, "addr", "add", LAPTOP_PRODUCTION, "dev",
                        "lan0"], check=True)
        yield {"lab": lab, "state": state, "sheet": sheet, "apply": r, "ours": ours,
               "theirs": theirs}
    finally:
        labmod.down(name)


def _pin(state: Path, address: str, sha256: str) -> None:
    """Pin ``sha256`` for ``address`` in the pins file of state dir ``state``."""
    state.mkdir(parents=True, exist_ok=True)
    pins = state / "pins.json"
    kept = json.loads(pins.read_text()) if pins.exists() else {}
    kept[address] = {"sha256": sha256, "pinned_at": 0}
    pins.write_text(json.dumps(kept))


def _verify(moved, env_extra, state=None, *more):
    return bringup(moved["lab"], "verify", "--sheet", str(moved["sheet"]), "--address",
                   "198.51.100.20", *more, env_extra=env_extra, state_dir=state or moved["state"])


def _logins(lab) -> tuple[int, int]:
    """Login attempts the simulated appliance saw: its request count, and the
    login posts in its log."""
    from simulator import control

    counted = control.send(lab.control, get="stats")["requests"].get("POST /appliance/login", 0)
    logged = (Path(lab.dir) / "sim.log").read_text().count("POST /appliance/login")
    return counted, logged


@MOVED
def test_verify_with_no_terminal_and_no_password_variable_exits_2_without_a_login(moved,
                                                                                   tmp_path):
    before = _logins(moved["lab"])
    assert before[0] >= 1 and before[1] == before[0]      # apply's logins, counted and logged
    # on a laptop with no journal of it, and with this run's (it changed the password)
    for state in (tmp_path / "elsewhere", moved["state"]):
        guess = _verify(moved, {}, state)
        assert guess.returncode == 2, guess.stdout[-1500:] + guess.stderr[-1500:]
        assert "set BRINGUP_PASSWORD" in guess.stderr, guess.stderr
        assert "Traceback" not in guess.stderr and "tries left" not in guess.stderr
    assert _logins(moved["lab"]) == before                # no lockout try spent on a guess


@MOVED
def test_verify_trusts_the_appliance_bringup_moved_to_its_production_address(moved):
    v = _verify(moved, {"BRINGUP_PASSWORD": NEW_PASSWORD}, None, "--json")
    assert v.returncode == 0, v.stdout[-3000:] + v.stderr[-1500:]
    assert "certificate" not in v.stderr and json.loads(v.stdout)["ok"]
    assert "certificate of this appliance recorded for 198.51.100.20" in moved["apply"].stdout


@MOVED
def test_verify_writes_into_this_appliances_report_not_another_with_the_same_serial(moved):
    lab, ours, theirs = moved["lab"], moved["ours"], moved["theirs"]
    mine = json.loads(ours.read_text())["appliance"]
    assert json.loads(theirs.read_text())["appliance"]["serial"] == mine["serial"]
    v = _verify(moved, {"BRINGUP_PASSWORD": NEW_PASSWORD}, None, "--json",
                "--trust-new-certificate")    # (the pin is another test's)
    assert v.returncode == 0, v.stdout[-3000:] + v.stderr[-1500:]
    result = json.loads(v.stdout)
    assert Path(result["run_report"]) == ours
    assert result["mac"] == lab.nic_macs["nic1"]    # seen by the laptop, on production
    assert lab.nic_macs["nic1"] in mine["macs"] and lab.nic_macs["nic2"] in mine["macs"]
    assert json.loads(ours.read_text())["verify"]["ok"] is True
    assert "## Verify on 198.51.100.20: every service reached" in ours.with_suffix(".md").read_text()
    assert "verify" not in json.loads(theirs.read_text())
    assert theirs.with_suffix(".md").read_text() == "# another appliance's report\n"


def test_a_production_service_that_dies_at_start_is_named_with_its_own_log(make_lab,
                                                                            monkeypatch):
    """The e-mail relay dying at start (as it did without aiosmtpd) is named, with
    its log's last lines, not another service's empty log; the lab is removed."""
    from simulator import services
    from simulator.netns import LabError

    def dying_relay(ns, d, certs, password_file):
        return services._popen(ns, [sys.executable, "-c", "import sys; sys.exit("
                                    "'relay: cannot bind 198.51.100.25:587')"], d / "smtp.log")

    monkeypatch.setattr(services, "start_smtp", dying_relay)
    with pytest.raises(LabError) as caught:
        make_lab(production=("nic1",), smtp_password=SMTP_PASSWORD)
    text = str(caught.value)
    assert text.startswith("the production network's e-mail relay (aiosmtpd) stopped at start "
                           "(exit status 1); its log "), text
    assert "smtp.log ends:\nrelay: cannot bind 198.51.100.25:587" in text
    assert "rsyslog" not in text
