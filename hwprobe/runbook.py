"""The recovery runbook: paths as checklists, readiness, and the incident timeline.

The checklists are data (``runbook.toml`` beside this module). ``checklist()``
fills a path's steps with values from the settings sheet so the technician
reads them ready to type. ``readiness()`` checks a sheet is complete and recent
and lists the kit. ``Timeline`` records what was done and when, ready to paste
into a support case. No network code here.
"""
from __future__ import annotations

import datetime as dt
import json
import time
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .constants import state_dir
from .fsutil import atomic_write
from .state import Settings

_DATA = tomllib.loads(resources.files(__package__).joinpath("runbook.toml").read_text())
PATHS: dict = _DATA["paths"]
READINESS: dict = _DATA["readiness"]
PATH_ORDER = ("hardware", "failover", "cold_spare", "virtual", "rma", "hosted", "saas")


@dataclass
class ChecklistItem:
    who: str            # "tool" | "tech"
    text: str
    done: bool = False


@dataclass
class Checklist:
    key: str
    title: str
    summary: str
    items: list[ChecklistItem]
    limitations: list[str] = field(default_factory=list)


class _Blank(dict):
    def __missing__(self, key):
        return f"<{key}: not in the sheet>"


def sheet_values(settings: Settings | None, failover: dict | None = None) -> dict:
    """The placeholders a checklist can use, from a sheet (missing ones say so)."""
    v = _Blank()
    if settings is not None:
        if settings.ips:
            v["ip_address"] = settings.ips[0].address
            v["ip_netmask"] = settings.ips[0].netmask
            v["ip_nic"] = settings.ips[0].nic.upper()
        if settings.default_gateway:
            v["default_gateway"] = settings.default_gateway
        if settings.dns_servers:
            v["dns_servers"] = ", ".join(settings.dns_servers)
        if settings.hostname:
            v["hostname"] = settings.hostname
    failover = failover or {}
    method = failover.get("method")
    if failover.get("peer_address"):
        v["peer_address"] = failover["peer_address"]
    methods = PATHS["failover"]["methods"]
    if method in methods:
        v["failover_method_text"] = methods[method].format_map(v)
    else:
        v["failover_method_text"] = ("this site's method is not in the sheet ([failover] method = "
                                     "shared_ip | dns | nat); one of: "
                                     + "; ".join(m.format_map(v) for m in methods.values()))
    return v


def checklist(key: str, settings: Settings | None = None, failover: dict | None = None) -> Checklist:
    """Path ``key`` (see PATH_ORDER) with its steps filled from the sheet."""
    p = PATHS[key]
    values = sheet_values(settings, failover)
    items = [ChecklistItem(s["who"], s["text"].format_map(values)) for s in p["steps"]]
    return Checklist(key, p["title"], p["summary"], items, list(p.get("limitations", [])))


# --- readiness ------------------------------------------------------------------

@dataclass
class ReadinessReport:
    sheet: str
    complete: list[str]
    missing: list[str]
    age_days: float | None
    too_old: bool
    kit: list[str]
    site: list[str]

    @property
    def ok(self) -> bool:
        return not self.missing and not self.too_old


def readiness(path: str | Path, settings: Settings, now: float | None = None) -> ReadinessReport:
    """How ready a site is for a recovery: which parts of the sheet are there,
    how old it is (by file time), and the kit and site checklist."""
    parts = {
        "IP addresses ([[ip]])": bool(settings.ips),
        "hostname, gateway, DNS ([network])": bool(settings.hostname and settings.default_gateway
                                                   and settings.dns_servers),
        "NTP ([ntp])": bool(settings.ntp_servers),
        "syslog ([syslog])": settings.syslog_servers is not None,
        "SMTP ([smtp])": settings.smtp is not None,
    }
    age = ((now or time.time()) - Path(path).stat().st_mtime) / 86400
    limit = READINESS["max_sheet_age_days"]
    return ReadinessReport(str(path), [k for k, ok in parts.items() if ok],
                           [k for k, ok in parts.items() if not ok], round(age, 1),
                           age > limit, list(READINESS["kit"]), list(READINESS["site"]))


# --- incident timeline -------------------------------------------------------------

class Timeline:
    """An append-only record of what was done during an incident, on disk."""

    def __init__(self, name: str, directory: Path | None = None):
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
        self.path = (directory or state_dir() / "incidents") / f"{safe}.json"
        self.entries: list[dict] = []
        if self.path.exists():
            self.entries = json.loads(self.path.read_text())

    def add(self, text: str, when: dt.datetime | None = None) -> dict:
        entry = {"at": (when or dt.datetime.now().astimezone()).isoformat(timespec="seconds"),
                 "text": text}
        self.entries.append(entry)
        atomic_write(self.path, json.dumps(self.entries, indent=2), mode=0o644)
        return entry

    def to_text(self, title: str = "Incident timeline") -> str:
        """Plain text, ready to paste into a support case."""
        lines = [title, "=" * len(title)]
        lines += [f"{e['at']}  {e['text']}" for e in self.entries]
        return "\n".join(lines) + "\n"
