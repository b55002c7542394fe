"""The appliance's certificates: Security > Certificates through the web
driver (the list, and Export of one to PKCS#12), and what a PKCS#12 file
holds once opened with its passphrase (``cryptography``).

Documented: the list, ticking one and Export with the certificate, its
private key and chain behind a passphrase. The paths, field names and
columns are the page map's ``[certificates]`` (modelled, docs/DESIGN.md).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hwprobe.errors import ApplianceError


@dataclass
class HeldCertificate:
    """One row of Security > Certificates."""

    friendly_name: str
    subject: str
    alternative_names: list[str]
    issuer: str
    expires: str
    default: bool
    sha256: str

    def covers(self, hostname: str) -> bool:
        return covers(self.alternative_names, hostname)


def covers(names: list[str], hostname: str) -> bool:
    """True when one of the DNS ``names`` matches ``hostname`` the way a TLS
    client matches it (``*.example.net`` covers exactly one more label)."""
    want = hostname.strip().rstrip(".").lower()
    if not want:
        return False
    for name in (n.strip().lower() for n in names):
        if name == want:
            return True
        if name.startswith("*.") and "." in want and want.split(".", 1)[1] == name[2:]:
            return True
    return False


def held_certificates(driver) -> list[HeldCertificate]:
    """Every certificate the appliance holds, as its list shows them.
    ApplianceError when the page has no such list (another firmware)."""
    spec = driver.pages["certificates"]
    _, page = driver.read_page(spec["path"])
    rows = page.table(spec["table"])
    if rows is None:
        raise ApplianceError(f"Security > Certificates shows no certificate list "
                             f"({spec['table']!r}): the page map may not match this firmware; "
                             "run `bringup survey`")
    cols = list(spec["columns"])
    out = []
    for row in rows:
        cell = dict(zip(cols, row))
        names = [n.strip() for n in cell.get("alternative_names", "").split(
            spec["alternative_names_separator"].strip()) if n.strip()]
        out.append(HeldCertificate(
            friendly_name=cell.get("friendly_name", ""), subject=cell.get("subject", ""),
            alternative_names=names, issuer=cell.get("issuer", ""),
            expires=cell.get("expires", ""), default=cell.get("default", "") == spec["default_mark"],
            sha256=cell.get("sha256", "").lower()))
    return out


def site_certificate(held: list[HeldCertificate], hostname: str) -> HeldCertificate | None:
    """The certificate a site named ``hostname`` serves: the default when it
    covers the name, else the first that does; None when none does."""
    covering = [h for h in held if h.covers(hostname)]
    return next((h for h in covering if h.default), covering[0] if covering else None)


def export_pkcs12(driver, held: HeldCertificate, passphrase: str) -> bytes:
    """Export ``held`` with its private key and chain, protected by
    ``passphrase``; returns the PKCS#12 bytes. ValidationRefused,
    ApplianceError, Unreachable from the driver."""
    spec = driver.pages["certificates"]
    on = "1"
    _, data = driver.download(
        f"{spec['export_page']}?{spec['select']}={held.sha256}", spec["export_action"],
        {spec["select"]: held.sha256, spec["include_certificate"]: on, spec["include_key"]: on,
         spec["include_chain"]: on, spec["passphrase"]: passphrase,
         spec["passphrase_confirm"]: passphrase})
    return data


class WrongPassphrase(ValueError):
    """The passphrase does not open the file (or it is not a PKCS#12 file)."""


@dataclass
class CertificateFile:
    """What a PKCS#12 file holds, opened with its passphrase."""

    sha256: str
    subject: str
    issuer: str
    alternative_names: list[str]
    not_before: dt.datetime
    not_after: dt.datetime
    has_key: bool
    key_matches: bool
    chain: list[str] = field(default_factory=list)     # subjects of the chain

    def covers(self, hostname: str) -> bool:
        return covers(self.alternative_names, hostname)

    def days_left(self, now: dt.datetime | None = None) -> float:
        now = now or dt.datetime.now(dt.timezone.utc)
        return (self.not_after - now).total_seconds() / 86400


def open_pkcs12(data: bytes, passphrase: str) -> CertificateFile:
    """Open a PKCS#12 file. WrongPassphrase when the passphrase does not open
    it; ValueError when it holds no certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        p12 = pkcs12.load_pkcs12(data, passphrase.encode() if passphrase else None)
    except ValueError:
        raise WrongPassphrase("the passphrase does not open the file, or it is not PKCS#12") from None
    chain = list(p12.additional_certs)
    if p12.cert is None and not chain:
        raise ValueError("the file holds no certificate")
    # without its key a certificate is listed among the others
    cert = p12.cert.certificate if p12.cert is not None else chain.pop(0).certificate
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(n) for n in ext.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        names = []
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    matches = (p12.key is not None and p12.cert is not None
               and p12.key.public_key().public_bytes(der, spki)
               == cert.public_key().public_bytes(der, spki))
    return CertificateFile(
        sha256=cert.fingerprint(hashes.SHA256()).hex(), subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(), alternative_names=names,
        not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
        has_key=p12.key is not None, key_matches=matches,
        chain=[c.certificate.subject.rfc4514_string() for c in chain])


def import_pkcs12(driver, path, password: str, on_progress=None) -> None:
    """Security > Certificates > Import: upload the file at ``path`` (PKCS#12
    or a PEM bundle) with its ``password``, streamed. Not made the default.
    ValidationRefused with the appliance's words (a wrong password, already
    present, ...), Unreachable, ApplianceError from the driver."""
    spec = driver.pages["certificates"]
    driver.upload(spec["import_page"], spec["import_action"], {spec["password"]: password},
                  spec["file"], path, on_progress=on_progress)


def make_default(driver, sha256: str) -> None:
    """Make the held certificate ``sha256`` the default: what every client
    connecting by address, or naming no host it covers, gets from now on.
    ValidationRefused, Unreachable, ApplianceError from the driver."""
    spec = driver.pages["certificates"]
    driver.send_form(spec["path"], spec["default_action"], {spec["select"]: sha256},
                     pick=lambda form: form.fields.get(spec["select"]) == sha256)


def presented(address: str, server_name: str, *, port: int = 443, device: str | None = None,
              timeout: float = 5.0) -> str:
    """The SHA-256 (64 lower-case hex digits) of the certificate the
    appliance at ``address`` presents to a client naming ``server_name`` in
    its TLS handshake (SNI), as the site's clients do. Unreachable."""
    from hwprobe.appliance.pinning import fetch_fingerprint, normalize_fingerprint

    return normalize_fingerprint(fetch_fingerprint(address, port, timeout, device, server_name))
