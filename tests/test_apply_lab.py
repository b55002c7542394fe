"""The whole job, headless, against a factory-fresh simulated appliance in a lab:
`bringup apply` with the example sheet, `capture` back, a second `apply` that
changes nothing, interruptions that converge, and no password anywhere."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import re
import tarfile

import pytest

from conftest import PAIR_CLIENT
from hwprobe.appliance.pagemap import PAGES
from hwprobe.settings.sheet import load_sheet
from hwprobe.appliance.state import syslog_targets
from lab_helpers import request_discipline
from simulator import control
from simulator.lab import PAIR, in_netns
from simulator.web import PAGE_PATHS

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "assets" / "example-sheet.toml"
NEW_PASSWORD = "Bring-Up-2am!x7"
SMTP_PASSWORD = "Smtp-Relay#Secret-93"
ADDR = "169.254.1.3"
IP_PAGE = PAGES["ip_config"]


def bringup(lab, *args, env_extra=None, state_dir, timeout=120, popen=False):
    env = dict(os.environ)
    env.update({"BRINGUP_STATE_DIR": str(state_dir), "PYTHONPATH": str(ROOT)})
    for key in ("BRINGUP_PASSWORD", "BRINGUP_NEW_PASSWORD", "BRINGUP_SMTP_PASSWORD"):
        env.pop(key, None)
    env.update(env_extra or {})
    argv = ["ip", "netns", "exec", lab.laptop_ns, sys.executable, "-m", "bringup", *args]
    if popen:
        return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, stdin=subprocess.DEVNULL)
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


FIRST = {"BRINGUP_NEW_PASSWORD": NEW_PASSWORD, "BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD}
LATER = {"BRINGUP_PASSWORD": NEW_PASSWORD, "BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD}


def apply(lab, state_dir, env, *extra, sheet=EXAMPLE, **kw):
    return bringup(lab, "apply", "--sheet", str(sheet), "--address", ADDR, "--iface", "lan0",
                   "--json", *extra, env_extra=env, state_dir=state_dir, **kw)


def ten_syslog_sheet(tmp_path) -> Path:
    """The example sheet with ten syslog servers: the older firmware's most."""
    text = EXAMPLE.read_text()
    servers = ", ".join(f'"198.51.100.{40 + i}"' for i in range(10))
    text, n = re.subn(r'(?m)^servers = \["198\.51\.100\.5"\]', f"servers = [{servers}]", text)
    assert n == 1
    sheet = tmp_path / "ten-syslog.toml"
    sheet.write_text(text)
    return sheet


def current_firmware_sheet(tmp_path) -> Path:
    """The example sheet as the newer firmware holds it (format 2): two syslog
    servers, each its own port and format, and e-mail encryption TLS."""
    text = EXAMPLE.read_text().replace("format = 1", "format = 2", 1)
    one = '[syslog]                         # Security > Appliance Administration\n' \
          'servers = ["198.51.100.5"]\nformat = "rfc5424"\n'
    assert one in text
    text = text.replace(one, '[[syslog]]\nserver = "198.51.100.5"\nport = 6514\nformat = "tls"\n\n'
                             '[[syslog]]\nserver = "198.51.100.6"\nformat = "bsd"\n')
    text = text.replace('encryption = "starttls"', 'encryption = "tls"')
    sheet = tmp_path / "current-firmware.toml"
    sheet.write_text(text)
    return sheet


def first_login(lab, state_dir) -> None:
    """Log in once and make the forced password change (a capture does it
    when given BRINGUP_NEW_PASSWORD), changing no setting."""
    out = Path(state_dir) / "first-login.toml"
    r = bringup(lab, "capture", "--address", ADDR, "--iface", "lan0", "--out", str(out),
                "--force", env_extra={"BRINGUP_NEW_PASSWORD": NEW_PASSWORD}, state_dir=state_dir)
    assert r.returncode == 0, r.stderr


def appliance_matches_sheet(lab, sheet=EXAMPLE) -> list[str]:
    """Differences between the simulator's state and the sheet."""
    st = control.send(lab.control, get="state")["state"]
    s = load_sheet(sheet)
    problems = []
    ips = {(i["nic"], i["address"], i["netmask"], i.get("vlan")) for i in st["ips"]}
    for ip in s.ips:
        if (ip.nic, ip.address, ip.netmask, ip.vlan) not in ips:
            problems.append(f"missing {ip}")
    checks = {
        "hostname": (st["hostname"], s.hostname),
        "default_gateway": (st["default_gateway"], s.default_gateway),
        "dns_servers": (st["dns_servers"], s.dns_servers),
        "ntp_servers": (st["ntp_servers"], s.ntp_servers),
        "syslog": ([(x["server"], x["port"], x["format"]) for x in st["syslog_targets"]],
                   [(x.server, x.port, x.format) for x in syslog_targets(s)]),
        "smtp_relay": (st["smtp"]["relay"], s.smtp.relay),
        "smtp_port": (st["smtp"]["port"], s.smtp.port),
        "smtp_contacts": (st["smtp"]["admin_contacts"], s.smtp.admin_contacts),
        "routes": ([(r["destination"], r["gateway"], r["nic"]) for r in st["routes"]],
                   [(r.destination, r.gateway, r.nic) for r in s.routes]),
    }
    problems += [f"{k}: {a!r} != {b!r}" for k, (a, b) in checks.items() if a != b]
    if not st["smtp"].get("password_set"):
        problems.append("smtp password not set")
    return problems


def changes(lab) -> dict:
    """How many times the appliance made each kind of change (add_ip, ...)."""
    return control.send(lab.control, get="stats")["changes"]


def saves(lab) -> int:
    """How many forms the appliance has saved so far (any page)."""
    return sum(control.send(lab.control, get="stats")["saved"].values())


def wait_for(check, what: str, timeout: float = 60.0):
    """Poll ``check()`` until it is truthy; a generous ceiling, not a timing check."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout} s: {what}")
        time.sleep(0.05)
    return value


def answers_https(lab) -> bool:
    """True when the appliance accepts a connection on its web port again."""
    with in_netns(lab.appliance_ns):
        try:
            socket.create_connection((ADDR, lab.https_port), timeout=1).close()
            return True
        except OSError:
            return False


def request_log(lab) -> list[str]:
    return control.send(lab.control, get="stats")["log"]


def posts(log: list[str]) -> Counter:
    return Counter(e.split(" ", 1)[1] for e in log if e.startswith("POST "))


@pytest.mark.parametrize("firmware", ["legacy", "current"])
def test_apply_restores_a_factory_appliance_then_capture_and_second_apply_agree(
        make_lab, state_dir, tmp_path, firmware):
    """The whole flow against each firmware profile: probe, first login, apply,
    read back, capture, a second apply that changes nothing, a survey that
    finds every field, then failover status and promote of the pair's backup."""
    lab = make_lab(appliance_address=ADDR, pair=True, factory=True, api_client=PAIR_CLIENT,
                   sim_args=["--firmware", firmware])
    # the older firmware takes ten syslog servers in one list; the newer one
    # three, each its own port and format
    sheet = ten_syslog_sheet(tmp_path) if firmware == "legacy" else current_firmware_sheet(tmp_path)
    r = apply(lab, state_dir, FIRST, sheet=sheet)
    assert r.returncode == 0, r.stderr + r.stdout
    out = json.loads(r.stdout)
    assert out["ok"] and all(s["status"] == "verified" for s in out["steps"] if s["changed"])
    assert appliance_matches_sheet(lab, sheet) == []
    assert "your cable is in NIC1" in out["notes"]
    # each form saved once, each page read once and read back once after its saves
    log = request_log(lab)
    assert request_discipline(log) == []
    saved = posts(log)
    # the pair's primary already holds 198.51.100.20: one address to add
    assert saved[IP_PAGE["add_action"]] == 1 and saved[PAGES["routes"]["add_action"]] == 1
    assert saved[PAGES["global_config"]["action"]] == 1      # host name, gateway and DNS
    assert Counter(e for e in log if e == f"GET {IP_PAGE['path']}") == {
        f"GET {IP_PAGE['path']}": 2}

    captured_path = tmp_path / "captured.toml"
    r = bringup(lab, "capture", "--address", ADDR, "--iface", "lan0", "--out", str(captured_path),
                env_extra=LATER, state_dir=state_dir)
    assert r.returncode == 0, r.stderr
    captured = load_sheet(captured_path)
    assert captured == load_sheet(sheet)
    assert f"format = {1 if firmware == 'legacy' else 2}" in captured_path.read_text()

    mark = len(request_log(lab))
    r = apply(lab, state_dir, LATER, sheet=sheet)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [s for s in out["steps"] if s["changed"]] == []
    log = request_log(lab)[mark:]
    assert request_discipline(log) == [] and set(posts(log)) == {PAGES["login"]["path"]}
    r = bringup(lab, "apply", "--sheet", str(sheet), "--address", ADDR, "--iface", "lan0",
                env_extra=LATER, state_dir=state_dir)
    assert "nothing to change" in r.stdout, r.stderr

    # a new host name, DNS and one more route: one Global Configuration save
    # with both, and only IP Configuration and Static Routes read back
    changed = tmp_path / "changed.toml"
    changed.write_text(sheet.read_text()
                       .replace('"support.example.net"', '"support2.example.net"')
                       .replace('"203.0.113.53"]', '"203.0.113.54"]')
                       + '\n[[route]]\ndestination = "203.0.113.192/26"\n'
                         'gateway = "198.51.100.254"\nnic = "nic1"\n')
    mark = len(request_log(lab))
    r = bringup(lab, "apply", "--sheet", str(changed), "--address", ADDR, "--iface", "lan0",
                "--json", env_extra=LATER, state_dir=state_dir)
    assert r.returncode == 0, r.stderr + r.stdout
    assert {s["key"] for s in json.loads(r.stdout)["steps"] if s["status"] == "verified"} == {
        "hostname", "dns", "route:203.0.113.192/26"}
    log = request_log(lab)[mark:]
    assert request_discipline(log) == []
    assert posts(log) == {PAGES["login"]["path"]: 1, PAGES["global_config"]["action"]: 1,
                          PAGES["routes"]["add_action"]: 1}
    reads = Counter(e.split(" ", 1)[1] for e in log if e.startswith("GET /appliance/")
                    and e.split(" ", 1)[1] in PAGE_PATHS)
    assert {page for page, n in reads.items() if n > 1} == {IP_PAGE["path"],
                                                            PAGES["routes"]["path"]}

    survey = survey_of(lab, state_dir, tmp_path)
    assert survey["software_version"] == ("7.1.2" if firmware == "legacy" else "24.1.1")
    assert survey["profile"] == firmware and survey["matches"]
    assert {f["status"] for p in survey["pages"] for f in p["fields"]} == {"found"}

    pair_address(lab)
    r = failover_cli(lab, "status", "--address", PAIR["backup"])
    assert r.returncode == 0 and json.loads(r.stdout)["role"] == "backup", r.stderr
    r = failover_cli(lab, "promote", "--address", PAIR["backup"])
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["after"]["role"] == "primary"


def survey_of(lab, state_dir, tmp_path) -> dict:
    """`bringup survey --json` of the lab's appliance; checks its archive holds
    no CSRF token, password or address other than the appliance's own."""
    out = tmp_path / "survey"
    out.mkdir()
    r = bringup(lab, "survey", "--address", ADDR, "--iface", "lan0", "--out", str(out), "--json",
                env_extra=LATER, state_dir=state_dir)
    assert r.returncode in (0, 1), r.stderr
    found = json.loads(r.stdout)
    [archive] = out.glob("survey-*.tar.gz")
    with tarfile.open(archive) as tar:
        pages = {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers()}
    assert any(name.endswith("networking-ip.html") for name in pages)
    text = "\n".join(pages.values())
    assert "198.51.100.53" not in text and "noc@example.net" not in text     # DNS, admin contact
    assert "198.51.100.20" in text                                           # its own address
    assert NEW_PASSWORD not in text and SMTP_PASSWORD not in text
    assert 'name="csrf_token" value="REDACTED"' in text
    assert not re.search(r'name="csrf_token" value="(?!REDACTED)', text)
    return found


def pair_address(lab) -> None:
    """The laptop's address on the pair's network (as the pair fixture gives it)."""
    subprocess.run(["ip", "-n", lab.laptop_ns, "addr", "add", f"{PAIR['laptop']}/24", "dev",
                    "lan0"], check=True)


def failover_cli(lab, *args):
    env = dict(os.environ, PYTHONPATH=str(ROOT), BRINGUP_API_CLIENT_ID=PAIR_CLIENT[0],
               BRINGUP_API_SECRET=PAIR_CLIENT[1])
    return subprocess.run(["ip", "netns", "exec", lab.laptop_ns, sys.executable, "-m", "bringup",
                           "failover", *args, "--json"], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=60)


def test_no_password_in_any_file_output_or_argv(make_lab, state_dir, tmp_path):
    lab = make_lab(appliance_address=ADDR)
    proc = apply(lab, state_dir, FIRST, popen=True)
    seen_argv = []
    while proc.poll() is None:
        for p in Path("/proc").iterdir():
            if p.name.isdigit():
                try:
                    seen_argv.append((p / "cmdline").read_bytes())
                except OSError:
                    pass
        time.sleep(0.02)
    stdout, stderr = proc.communicate()
    assert proc.returncode == 0, stderr
    r = bringup(lab, "capture", "--address", ADDR, "--iface", "lan0", "--out", str(tmp_path / "c.toml"),
                env_extra=LATER, state_dir=state_dir)
    assert r.returncode == 0, r.stderr
    files = [p for p in list(state_dir.rglob("*")) + list(tmp_path.rglob("*")) if p.is_file()]
    assert any(p.suffix == ".md" for p in files), "the run wrote no report"
    for secret in (NEW_PASSWORD, SMTP_PASSWORD):
        for p in files:
            assert secret.encode() not in p.read_bytes(), f"{secret!r} leaked into {p}"
        assert secret not in stdout + stderr + r.stdout + r.stderr
        assert not [a for a in seen_argv if secret.encode() in a], "a password reached argv"
    assert NEW_PASSWORD.encode() not in Path(lab.dir, "sim.log").read_bytes()


def test_apply_killed_mid_run_resumes_without_applying_anything_twice(make_lab, state_dir):
    lab = make_lab(appliance_address=ADDR)
    control.send(lab.control, fault="delay", value=0.15)
    proc = apply(lab, state_dir, FIRST, popen=True)
    journal_dir = state_dir / "runs"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:          # wait until at least two steps landed
        done = 0
        for j in journal_dir.glob("*.json"):
            steps = json.loads(j.read_text()).get("steps", {})
            done = sum(1 for v in steps.values() if v["status"] == "verified")
        if done >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert done >= 2, "apply never got two steps in"
    assert appliance_matches_sheet(lab) != []    # really interrupted
    control.send(lab.control, fault="clear")
    before = changes(lab)
    r = apply(lab, state_dir, LATER)
    assert r.returncode == 0, r.stderr + r.stdout
    assert appliance_matches_sheet(lab) == []
    out = json.loads(r.stdout)
    resumed = [s["key"] for s in out["steps"] if s["changed"]]
    assert len(resumed) < len(out["steps"]), "the re-run applied everything again"
    after = changes(lab)
    added = after.get("add_ip", 0) - before.get("add_ip", 0)
    assert added == sum(1 for k in resumed if k.startswith("ip:"))


@pytest.mark.parametrize("fault", [
    {"fault": "drop_after", "value": 12},
    {"fault": "http500", "value": "/appliance/security/admin/syslog"},
    {"fault": "reboot", "value": 2},
], ids=["dropped-connection", "http-500", "reboot"])
def test_apply_interrupted_by_the_appliance_converges_on_rerun(make_lab, state_dir, fault):
    lab = make_lab(appliance_address=ADDR)
    first_login(lab, state_dir)
    if fault["fault"] == "reboot":
        before = saves(lab)
        proc = apply(lab, state_dir, LATER, popen=True)
        wait_for(lambda: saves(lab) > before or proc.poll() is not None, "the run saving a form")
        control.send(lab.control, **fault)
        stdout, stderr = proc.communicate(timeout=120)
        first_rc = proc.returncode
        wait_for(lambda: not control.send(lab.control, get="stats")["faults"]["rebooting"]
                 and answers_https(lab), "the appliance back from its reboot")
    else:
        control.send(lab.control, **fault)
        res = apply(lab, state_dir, LATER)
        first_rc, stdout, stderr = res.returncode, res.stdout, res.stderr
        control.send(lab.control, fault="clear")
    if first_rc == 0:       # the run outlived the fault (re-login, retried read)
        assert appliance_matches_sheet(lab) == []
    else:
        assert stderr.strip() or "failed" in stdout, "a failed run must say why"
    r = apply(lab, state_dir, LATER)
    assert r.returncode == 0, r.stderr + r.stdout
    assert appliance_matches_sheet(lab) == []
    adds = changes(lab).get("add_ip", 0)
    assert adds == len(load_sheet(EXAMPLE).ips), "an address was added twice"


def test_expired_session_mid_run_is_recovered_by_logging_in_again(make_lab, state_dir):
    lab = make_lab(appliance_address=ADDR)
    first_login(lab, state_dir)
    control.send(lab.control, fault="delay", value=0.1)
    before = saves(lab)
    proc = apply(lab, state_dir, LATER, popen=True)
    wait_for(lambda: saves(lab) > before, "the run saving a form")     # logged in, mid-run
    control.send(lab.control, fault="expire_sessions")
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr + stdout
    assert appliance_matches_sheet(lab) == []


def test_next_appliance_on_the_same_factory_address_is_not_a_changed_certificate(
        make_lab, state_dir):
    first = make_lab(appliance_address=ADDR)
    assert apply(first, state_dir, FIRST).returncode == 0
    second = make_lab(appliance_address=ADDR)          # another box, same factory address
    r = apply(second, state_dir, FIRST)
    assert r.returncode == 0, r.stderr


def test_changed_certificate_on_the_same_appliance_stops_the_run(make_lab, state_dir):
    lab = make_lab(appliance_address=ADDR)
    assert apply(lab, state_dir, FIRST).returncode == 0
    control.send(lab.control, fault="new_certificate")
    r = apply(lab, state_dir, LATER)
    assert r.returncode == 1
    assert "certificate changed" in r.stderr and "--trust-new-certificate" in r.stderr
    r = apply(lab, state_dir, LATER, "--trust-new-certificate")
    assert r.returncode == 0, r.stderr


BASIC = """format = 1
[[ip]]
nic = "nic1"
address = "198.51.100.20"
prefix = 24
[network]
hostname = "support.example.net"
default_gateway = "198.51.100.1"
dns_servers = ["198.51.100.53", "203.0.113.53"]
"""


def test_basic_settings_through_the_local_console_then_nothing_to_change(make_lab, state_dir,
                                                                          tmp_path):
    lab = make_lab(appliance_address=ADDR)
    sheet = tmp_path / "basic.toml"
    sheet.write_text(BASIC)
    r = bringup(lab, "apply", "--sheet", str(sheet), "--console", lab.console, "--json",
                env_extra=FIRST, state_dir=state_dir)
    assert r.returncode == 0, r.stderr + r.stdout
    out = json.loads(r.stdout)
    assert {s["key"]: s["status"] for s in out["steps"]} == {
        "ip:nic1:198.51.100.20": "verified", "gateway": "verified", "hostname": "verified",
        "dns": "verified"}
    st = control.send(lab.control, get="state")["state"]
    assert st["hostname"] == "support.example.net" and st["default_gateway"] == "198.51.100.1"
    assert st["dns_servers"] == ["198.51.100.53", "203.0.113.53"]
    assert any(i["address"] == "198.51.100.20" for i in st["ips"])
    r = bringup(lab, "apply", "--sheet", str(sheet), "--console", lab.console,
                env_extra=LATER, state_dir=state_dir)
    assert r.returncode == 0 and "nothing to change" in r.stdout, r.stderr
    transcripts = list((state_dir / "transcripts").glob("*.log"))
    assert transcripts and all(NEW_PASSWORD not in t.read_text() for t in transcripts)


def test_console_cannot_restore_the_web_only_settings_and_says_so(make_lab, state_dir):
    lab = make_lab(appliance_address=ADDR)
    r = bringup(lab, "apply", "--sheet", str(EXAMPLE), "--console", lab.console, "--json",
                env_extra=FIRST, state_dir=state_dir)
    assert r.returncode == 1, "a run that left settings undone is not done"
    out = json.loads(r.stdout)
    skipped = {s["key"]: s["message"] for s in out["steps"] if s["status"] == "skipped"}
    assert set(skipped) >= {"ntp", "syslog", "smtp"}
    assert all("web interface" in m for m in skipped.values())


def test_wrong_password_says_how_many_tries_remain_and_is_not_retried(make_lab, state_dir):
    lab = make_lab(appliance_address=ADDR)
    r = apply(lab, state_dir, {"BRINGUP_PASSWORD": "Wrong-Guess#1", "BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD})
    assert r.returncode == 1
    # the count of tries left, said once (in the appliance's words, which say it)
    assert "4 attempts remaining before lockout" in r.stderr and "tries left" not in r.stderr
    assert "does not retry" in r.stderr
    logins = control.send(lab.control, get="stats")["requests"].get("POST /appliance/login", 0)
    assert logins == 1


def test_apply_without_an_address_searches_the_factory_addresses_on_the_port(make_lab, state_dir):
    from lab_helpers import port_state
    from simulator import lab as labmod

    lab = make_lab(appliance_address="169.254.1.4", answers_on="nic2")    # the cable in NIC1
    before = port_state(lab.laptop_ns)
    args = ("apply", "--sheet", str(EXAMPLE), "--iface", "lan0")
    r = bringup(lab, *args, env_extra=FIRST, state_dir=state_dir)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "nothing answers on 169.254.1.1, 169.254.1.2, 169.254.1.3, 169.254.1.4 on lan0" \
        in r.stderr and "other NIC" in r.stderr
    assert port_state(lab.laptop_ns) == before
    assert control.send(lab.control, get="stats")["changes"] == {}
    labmod.plug(lab.name, "nic2")
    r = bringup(lab, *args, env_extra=FIRST, state_dir=state_dir)
    assert r.returncode == 0, r.stderr
    [mac] = [n["mac"] for n in control.send(lab.control, get="state")["state"]["nics"]
             if n["nic"] == "nic2"]
    assert f"found the appliance at 169.254.1.4 (MAC {mac}) on lan0" in r.stderr
    assert "your cable is in NIC2" in r.stdout
    assert appliance_matches_sheet(lab) == []
    assert port_state(lab.laptop_ns) == before


def test_apply_reaches_the_appliance_through_the_held_port_even_when_a_host_route_points_away(
        make_lab, state_dir):
    """A second laptop port with a host route to the appliance's own factory
    address (no route bringup adds can outrank a /32): the web connections are
    bound to the held port, so the whole run goes through lan0 all the same.
    Unbound, the certificate fetch would ARP for the appliance on other0 and
    the run would end unreachable."""
    from lab_helpers import second_port

    lab = make_lab(appliance_address=ADDR)
    second_port(lab.laptop_ns)
    subprocess.run(["ip", "-n", lab.laptop_ns, "route", "add", f"{ADDR}/32", "dev", "other0"],
                   check=True)
    r = apply(lab, state_dir, FIRST, "--force-port")
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    changed = [s for s in out["steps"] if s["changed"]]
    assert out["ok"] and changed and all(s["status"] == "verified" for s in changed), out
    assert any(f"{ADDR} is routed through other0 as a host route" in n for n in out["notes"])
