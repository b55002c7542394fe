"""Prove the restored appliance works: each service reached or not, in its words.

Read-back proves the appliance stored the sheet; ``verify`` proves it uses it.
Over an open, logged-in web driver it reads back against the sheet, checks
/check_health, has the appliance send its test e-mail, look up every name the
sheet uses (through its configured DNS and through each DNS server alone),
ping its gateways, connect to its relay, show its NTP sync status and send a
test syslog message (Support > Utilities). Each result is a ``Check``: the
service, the target, reached or not, and the appliance's own sentence.

The core of ``bringup verify``; the command line wires prompts and reports.
Raises only errors from hwprobe.errors (Unreachable, SessionExpired...) when
the appliance itself stops answering; a service that fails is a Check, not an
exception.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from hwprobe.settings import validate as v
from hwprobe.safetext import shown
from hwprobe.constants import state_dir
from hwprobe.procedure.engine import plan
from hwprobe.settings.areas import AREAS
from hwprobe.errors import ApplianceError, ValidationRefused
from hwprobe.fsutil import atomic_write
from hwprobe.appliance.pinning import normalize_fingerprint
from hwprobe.appliance.state import Settings
from hwprobe.appliance.webonly import UtilityAction, WebOnlyDriver

SERVICES = ("settings", "health", "smtp", "dns", "names", "gateway", "ntp", "syslog")


@dataclass
class Check:
    service: str        # one of SERVICES
    target: str         # the server, name or address checked
    reached: bool
    words: str          # what the appliance said


@dataclass
class VerifyResult:
    address: str
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0
    # what identifies the appliance (finds the report of the run that set it up)
    serial: str = ""            # as the appliance shows it
    fingerprint: str = ""       # its certificate's SHA-256
    mac: str = ""               # the MAC the laptop saw answer, where it sees one

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.reached for c in self.checks)

    @property
    def not_reached(self) -> list[Check]:
        return [c for c in self.checks if not c.reached]

    def to_json(self) -> dict:
        return {"address": self.address, "serial": self.serial,
                "certificate_sha256": self.fingerprint, "mac": self.mac, "ok": self.ok,
                "seconds": round(self.seconds, 2), "checks": [asdict(c) for c in self.checks]}

    def is_of(self, appliance: dict) -> bool:
        """Whether a run report's ``appliance`` record is this appliance: by the
        MAC the laptop saw, where both know MACs; otherwise by certificate and
        serial together. A serial alone never is: every box restored from one
        sheet, or captured from one old appliance, may show the same."""
        macs = [m.lower() for m in appliance.get("macs") or [] if isinstance(m, str)]
        if self.mac and macs:
            return self.mac.lower() in macs
        cert = appliance.get("certificate_sha256") or ""
        return bool(self.fingerprint and self.serial and isinstance(cert, str)
                    and normalize_fingerprint(cert) == normalize_fingerprint(self.fingerprint)
                    and appliance.get("serial") == self.serial)



def production_address(settings: Settings, cable_nic: str | None) -> str:
    """The sheet's address to verify on once the laptop joins production: one
    on the NIC the laptop's cable was in, and untagged (a laptop on an access
    port reaches no VLAN-tagged address), else any untagged one, else the
    first; "" when the sheet has none."""
    ips = list(getattr(settings, "ips", None) or [])
    ranked = sorted(ips, key=lambda ip: (ip.vlan is not None, ip.nic != cable_nic))
    return ranked[0].address if ranked else ""


def names_of(settings: Settings) -> list[str]:
    """The host names the sheet uses (relay, NTP, syslog, the appliance's own)."""
    names = [settings.smtp.relay] if settings.smtp and settings.smtp.relay else []
    names += settings.ntp_servers or []
    names += settings.syslog_servers or []
    names += [settings.hostname] if settings.hostname else []
    return list(dict.fromkeys(n for n in names if n and v.check_ipv4(n) is not None))


def _refusal(exc: ValidationRefused) -> str:
    text = str(exc)
    return text.split(": ", 1)[1] if text.startswith("the appliance refused") and ": " in text else text


def _answers(text: str) -> list[tuple[str, bool, str]]:
    """Utilities' "TARGET: reached - words; ..." as [(target, reached, words)]."""
    out = []
    for part in filter(None, (p.strip() for p in text.split("; "))):
        head, _, words = part.partition(" - ")
        target, _, state = head.rpartition(": ")
        out.append((target or head, state == "reached", words or part))
    return out


def verify(driver: WebOnlyDriver, settings: Settings, address: str, *,
           mac: str | None = None, fingerprint: str | None = None,
           on_check: Callable[[Check], None] | None = None, ntp_wait: float = 10.0) -> VerifyResult:
    """Run every check against the appliance behind ``driver`` (open and
    logged in on the web interface); returns the VerifyResult. ``mac`` (the
    one the laptop saw answer) and ``fingerprint`` (its certificate's), when
    known, say which appliance it is. ``on_check`` hears each as it ends."""
    result = VerifyResult(address, fingerprint=fingerprint or "", mac=(mac or "").lower())
    t0 = time.monotonic()

    def add(service: str, target: str, reached: bool, words: str) -> None:
        check = Check(service, target, reached, words)
        result.checks.append(check)
        if on_check:
            on_check(check)

    def utility(service: str, target: str, action: UtilityAction, **fields: str) -> None:
        try:
            for got, ok, words in _answers(driver.utility(action, **fields)):
                add(service, got if service == "syslog" else target, ok, words)
        except ValidationRefused as exc:
            add(service, target, False, _refusal(exc))

    state = AREAS.read_state(driver)
    result.serial = state.serial
    differs = [s.title for s in plan(state, settings).changes]
    add("settings", "read back", not differs,
        "the appliance holds every value of the sheet" if not differs
        else "differs from the sheet: " + "; ".join(differs))
    try:
        code, text = driver.check_health()
        add("health", "/check_health", code == 200, f"HTTP {code}: {text or '-'}")
    except ApplianceError as exc:
        add("health", "/check_health", False, str(exc))
    if settings.smtp and settings.smtp.relay:
        try:
            add("smtp", f"test email via {settings.smtp.relay}:{settings.smtp.port}", True,
                driver.send_test_email())
        except ValidationRefused as exc:
            add("smtp", f"test email via {settings.smtp.relay}:{settings.smtp.port}", False,
                _refusal(exc))
    names = names_of(settings)
    probe_name = names[0] if names else ""
    for server in AREAS["dns"].asked(settings) or []:
        if probe_name:
            utility("dns", server, "lookup_action", name=probe_name, dns_server=server)
    for name in names:
        utility("names", name, "lookup_action", name=name, dns_server="")
    gateways = [settings.default_gateway] if settings.default_gateway else []
    gateways += [r.gateway for r in settings.routes]
    for gw in dict.fromkeys(gateways):
        utility("gateway", gw, "ping_action", host=gw)
    if settings.ntp_servers:
        _ntp(driver, add, ntp_wait)
    if settings.syslog_servers:
        utility("syslog", "test message", "syslog_test_action")
    result.seconds = time.monotonic() - t0
    return result


def _ntp(driver: WebOnlyDriver, add: Callable[[str, str, bool, str], None], wait: float) -> None:
    """NTP per server and the sync status; a status not yet synchronised is
    read again for up to ``wait`` seconds (the appliance asks in its own time)."""
    deadline = time.monotonic() + wait
    while True:
        status, rows = driver.ntp_status()
        if status.startswith("synchronized") or time.monotonic() >= deadline:
            break
        time.sleep(1.0)
    for row in rows:
        server, state, details = (row + ["", "", ""])[:3]
        add("ntp", server, state == "reached", details)
    add("ntp", "sync status", status.startswith("synchronized"), status or "no NTP status shown")


def to_text(result: VerifyResult) -> list[str]:
    """One line per check, for a terminal or a report."""
    # the words are the appliance's: shown as data (no control character, no
    # ``` to end the report's code block)
    return [f"[{'ok' if c.reached else 'NOT REACHED':>11}] {c.service:<8} {shown(c.target)}: "
            f"{shown(c.words).replace('```', '` ` `')}" for c in result.checks]


def write_report(result: VerifyResult, *, sheet: str | None, secrets: Iterable[str] = (),
                 directory: Path | None = None) -> tuple[Path, Path]:
    """The verify report (Markdown and JSON) beside the run reports; returns the
    paths. ValueError (nothing written) if a secret would be in it."""
    directory = directory or state_dir() / "reports"
    directory.mkdir(parents=True, exist_ok=True)
    rep = {"kind": "verify", "sheet": sheet, "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
           **result.to_json()}
    md = "\n".join([f"# Verify {result.address}: {'every service reached' if result.ok else 'NOT every service reached'}",
                    "", f"Sheet: {sheet or '-'}", "", "```", *to_text(result), "```", ""])
    js = json.dumps(rep, indent=2)
    for secret in secrets:
        if secret and (secret in md or secret in js):
            raise ValueError("refusing to write a report that contains a password")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in result.address)
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-verify-{safe}"
    paths = directory / f"{stem}.md", directory / f"{stem}.json"
    for path, text in zip(paths, (md, js)):
        atomic_write(path, text, mode=0o644)
    return paths


def add_to_run_report(result: VerifyResult, *, run_report: Path | None = None,
                      directory: Path | None = None, secrets: Iterable[str] = ()) -> Path | None:
    """Add the checks to the run's report: ``run_report`` (its Markdown or JSON
    path), else the newest run report of this very appliance (``is_of``: its
    MAC, or its certificate and serial; never the serial alone). Returns the
    JSON path updated, or None when there is no such report. ValueError
    (nothing written) if a secret would be in it."""
    directory = directory or state_dir() / "reports"
    if run_report is not None:
        js = Path(run_report).with_suffix(".json")
    else:
        js = None
        for path in sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True):
            try:
                rep = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if (isinstance(rep, dict) and rep.get("bringup_report")
                    and isinstance(rep.get("appliance"), dict) and result.is_of(rep["appliance"])):
                js = path
                break
    if js is None or not js.exists():
        return None
    rep = json.loads(js.read_text())
    rep["verify"] = {"finished": time.strftime("%Y-%m-%d %H:%M:%S"), **result.to_json()}
    md_path = js.with_suffix(".md")
    md = md_path.read_text() if md_path.exists() else ""
    md += "\n".join(["", f"## Verify on {result.address}: "
                      + ("every service reached" if result.ok else "NOT every service reached"),
                      "", "```", *to_text(result), "```", ""])
    text = json.dumps(rep, indent=2, default=str)
    for secret in secrets:
        if secret and (secret in text or secret in md):
            raise ValueError("refusing to write a report that contains a password")
    atomic_write(js, text, mode=0o644)
    atomic_write(md_path, md, mode=0o644)
    return js
