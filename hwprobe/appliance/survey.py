"""``bringup survey``: walk every page the firmware profile names, say per page
and field what was found, missing or unexpected, and keep one archive of the
pages as served, redacted.

Read-only: only GETs, after a login the caller made (a forced password change
is not made here). The archive (``survey-VERSION-TIME.tar.gz``) holds
``survey.json`` (the findings, the software version and profile) and one HTML
file per page. Redacted before writing: CSRF tokens and every password
field's value, and every IPv4 or e-mail address that is not the appliance's
own (its addresses as IP Configuration lists them and the one surveyed), and
host names in form values other than its own host name; no
response header is kept, so no session cookie is. With that one file a page
map update for an unknown firmware is a data change.
"""
from __future__ import annotations

import io
import ipaddress
import json
import re
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from hwprobe.errors import ApplianceError
from hwprobe.fsutil import atomic_write
from hwprobe.appliance.pagecheck import FOUND, MISSING, UNEXPECTED, Finding, check_page, pages_to_walk
from hwprobe.appliance.webonly import WebOnlyDriver

REDACTED = "REDACTED"
_IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_INPUT = re.compile(r"<input\b[^>]*>", re.I)
_NAME = re.compile(r"(?<![\w.-])(?=[\w-]*[a-z])[a-z0-9-]+(?:\.[a-z0-9-]+)+(?![\w.-])", re.I)
_VALUE = re.compile(r'(<input\b[^>]*\bvalue=")([^"]*)(")', re.I)
_TEXTAREA = re.compile(r"(<textarea\b[^>]*>)(.*?)(</textarea>)", re.I | re.S)


@dataclass
class PageSurvey:
    """One page: its menu name, path, findings, and whether it opened."""

    name: str
    path: str
    findings: list[Finding] = field(default_factory=list)
    error: str = ""

    def count(self, status: str) -> int:
        return sum(1 for f in self.findings if f.status == status)


@dataclass
class Survey:
    address: str
    software_version: str
    profile: str | None
    pages: list[PageSurvey]
    archive: Path | None = None

    def findings(self, status: str) -> list[Finding]:
        return [f for p in self.pages for f in p.findings if f.status == status]

    @property
    def matches(self) -> bool:
        """Every field found, nothing unexpected, every page opened."""
        return not (self.findings(MISSING) or self.findings(UNEXPECTED)
                    or any(p.error for p in self.pages))

    def to_json(self) -> dict:
        return {"address": self.address, "software_version": self.software_version,
                "profile": self.profile, "matches": self.matches,
                "archive": str(self.archive) if self.archive else None,
                "pages": [{"page": p.name, "path": p.path, "error": p.error,
                           "fields": [f.to_json() for f in p.findings]} for p in self.pages]}


def redact(text: str, own: set[str], csrf_field: str) -> str:
    """The page as served minus what must not leave the site: CSRF tokens,
    password values, and addresses other than the appliance's own."""
    def one_input(m: re.Match) -> str:
        tag = m.group(0)
        if re.search(rf'name="{re.escape(csrf_field)}"', tag) or re.search(r'type="password"', tag, re.I):
            return re.sub(r'value="[^"]*"', f'value="{REDACTED}"', tag)
        return tag

    text = _INPUT.sub(one_input, text)

    def address(m: re.Match) -> str:
        value = m.group(1)
        try:
            ipaddress.IPv4Address(value)
        except ValueError:
            return value
        return value if value in own else "192.0.2.0"   # TEST-NET-1: plainly not real
    text = _IPV4.sub(address, text)
    text = _EMAIL.sub("redacted@example.invalid", text)

    def names(value: str) -> str:       # host names in values: relays, NTP and syslog servers
        return _NAME.sub(lambda m: m.group(0) if m.group(0).lower() in own
                         else "host.example.invalid", value)
    text = _VALUE.sub(lambda m: m.group(1) + names(m.group(2)) + m.group(3), text)
    return _TEXTAREA.sub(lambda m: m.group(1) + names(m.group(2)) + m.group(3), text)


def own_addresses(driver: WebOnlyDriver) -> set[str]:
    """The appliance's own addresses: the one surveyed and IP Configuration's
    address table (empty when that page cannot be read)."""
    from hwprobe.appliance.webpages import PageSection

    own = {driver.address}
    try:
        page = driver.read_page(driver.pages["ip_config"]["path"])[1]
        addresses = PageSection("ip_config", driver.pages["ip_config"], page, driver.names)
        own |= {row["address"] for row in addresses.rows("address_table")}
        glob = driver.pages["global_config"]
        form = page.form(glob["action"])
        if form is not None and form.fields.get(glob["hostname"], "").strip():
            own.add(form.fields[glob["hostname"]].strip().lower())
    except (ApplianceError, KeyError):
        pass
    return own


def run_survey(driver: WebOnlyDriver, out_dir: Path | None = None,
               on_page: Callable[[str], None] | None = None) -> Survey:
    """Walk every page of the driver's firmware profile (the driver is open
    and logged in); write the archive into ``out_dir`` when given. Returns the
    Survey. Raises Unreachable / SessionExpired like any read, OSError when
    the archive cannot be written. ``on_page(name)`` hears each page."""
    driver.know_profile()
    pages = driver.pages
    own = own_addresses(driver)
    csrf = pages["common"]["csrf_field"]
    result = Survey(driver.address, driver.software_version, driver.profile, [])
    snapshots: list[tuple[str, str]] = []
    for n, path in enumerate(pages_to_walk(pages), start=1):
        name = driver.names.of(path)
        if on_page is not None:
            on_page(name)
        entry = PageSurvey(name, path)
        try:
            text, page = driver.read_page(path)
        except ApplianceError as exc:
            entry.error = str(exc)
            entry.findings = [Finding("", path, path, "page", MISSING)]
        else:
            entry.findings = check_page(pages, path, page)
            slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
            snapshots.append((f"pages/{n:02d}-{slug}.html", redact(text, own, csrf)))
        result.pages.append(entry)
    if out_dir is not None:
        result.archive = _write_archive(result, snapshots, Path(out_dir))
    return result


def _write_archive(result: Survey, snapshots: list[tuple[str, str]], out_dir: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    version = re.sub(r"[^A-Za-z0-9.]+", "_", result.software_version or "unknown")
    path = out_dir / f"survey-{version}-{stamp}.tar.gz"
    files = [("survey.json", json.dumps({**result.to_json(), "archive": path.name}, indent=2)),
             *snapshots]
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, text in files:
            data = text.encode()
            info = tarfile.TarInfo(f"survey/{name}")
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            tar.addfile(info, io.BytesIO(data))
    # beside it, then renamed: a regular file or nothing
    atomic_write(path, archive.getvalue(), mode=0o644)
    return path


def summary_lines(result: Survey) -> list[str]:
    """The survey in words: one line per page, then the totals."""
    profile = result.profile or "none (no profile claims this version; the base layout was used)"
    lines = [f"survey of {result.address}: software {result.software_version or 'unknown'}, "
             f"firmware profile {profile}"]
    for p in result.pages:
        if p.error:
            lines.append(f"  {p.name} ({p.path}): did not open: {p.error}")
            continue
        words = [f"{p.count(FOUND)} found" if p.findings else "opened (bringup reads no field here)"]
        for status in (MISSING, UNEXPECTED):
            items = [f"{f.kind} {f.field}" for f in p.findings if f.status == status]
            if items:
                words.append(f"{len(items)} {status}: {', '.join(items)}")
        lines.append(f"  {p.name} ({p.path}): " + "; ".join(words))
    lines.append(f"{len(result.pages)} pages: {len(result.findings(FOUND))} fields found, "
                 f"{len(result.findings(MISSING))} missing, "
                 f"{len(result.findings(UNEXPECTED))} unexpected")
    return lines
