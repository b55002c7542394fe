"""The appliance's certificates (/appliance > Security > Certificates) and
which one its TLS listener presents.

A factory appliance holds one certificate, its own self-signed one (cert.pem
and key.pem in the state directory, made at first start). More are added by
Import (a PKCS#12 file or a PEM bundle, with its password) or by the lab when
it puts an appliance in production (``add``). One of them is the default.

The listener picks by SNI: a client naming a host that a certificate's
alternative names cover (``*.example.net`` covers one label) gets that
certificate, the default when it covers the name too; every other client (no
SNI, an address, an unknown name) gets the default.

Export writes a real PKCS#12 (``cryptography``): the certificate, its private
key and chain as ticked, protected by the passphrase given. Each
certificate's id is the SHA-256 fingerprint of its DER form, as the list
shows it.

Kept in the state directory: ``certificates.json`` (ids, friendly names, the
default), ``certs/ID.pem`` (the certificate, then its chain) and
``certs/ID.key`` (0600). Import's errors are ``Refused`` with one
"certificate_file: why" or "certificate_password: why" sentence.
"""
from __future__ import annotations

import datetime
import ipaddress
import json
import re
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtensionOID, NameOID

from .appliance import Refused
from .factory import FACTORY_ADDRESSES
from .jsonfile import save_json

FACTORY_NAME = "Factory certificate (self-signed)"
# the outer structure of a PKCS#12 file: SEQUENCE { INTEGER 3, SEQUENCE { OID pkcs7-data ...
_PKCS7_DATA = bytes.fromhex("06092a864886f70d010701")
_PEM_KEY = re.compile(rb"-----BEGIN ([A-Z ]*)PRIVATE KEY-----.*?-----END \1PRIVATE KEY-----", re.S)


@dataclass
class Held:
    """One certificate the appliance holds, as Security > Certificates lists it."""

    id: str                         # SHA-256 fingerprint (hex) of the certificate
    friendly_name: str
    cert: x509.Certificate
    chain: list[x509.Certificate] = field(default_factory=list)
    default: bool = False
    factory: bool = False

    @property
    def subject(self) -> str:
        return self.cert.subject.rfc4514_string()

    @property
    def issuer(self) -> str:
        return self.cert.issuer.rfc4514_string()

    @property
    def expires(self) -> datetime.datetime:
        return self.cert.not_valid_after_utc

    @property
    def alternative_names(self) -> list[str]:
        return alternative_names(self.cert)

    def covers(self, hostname: str) -> bool:
        return covers(self.cert, hostname)


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def alternative_names(cert: x509.Certificate) -> list[str]:
    """DNS names and addresses of the certificate's subjectAltName, in order."""
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        return []
    return ([str(n) for n in ext.get_values_for_type(x509.DNSName)]
            + [str(a) for a in ext.get_values_for_type(x509.IPAddress)])


def covers(cert: x509.Certificate, hostname: str) -> bool:
    """True when one of the certificate's DNS names matches ``hostname`` (a
    ``*.`` name matches one label, as a TLS client matches it)."""
    want = hostname.strip().rstrip(".").lower()
    for name in alternative_names(cert):
        name = name.lower()
        if name == want:
            return True
        if name.startswith("*.") and "." in want and want.split(".", 1)[1] == name[2:]:
            return True
    return False


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.chmod(mode)
    tmp.replace(path)


class CertStore:
    """The certificates of one appliance and the TLS contexts that serve them.

    ``context`` is what the listener wraps a new connection with: the
    default's, with the SNI choice attached. Thread safe.
    """

    def __init__(self, state_dir: str | Path, common_name: str):
        self.dir, self.common_name = Path(state_dir), common_name
        self.cert_file, self.key_file = self.dir / "cert.pem", self.dir / "key.pem"
        self.index_file = self.dir / "certificates.json"
        self.own_dir = self.dir / "certs"
        self._lock = threading.RLock()
        if not (self.cert_file.exists() and self.key_file.exists()):
            self._generate_factory()
        self._held: list[Held] = []
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._load()

    # --- files -------------------------------------------------------------------

    def _generate_factory(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "B Series Appliance"),
                          x509.NameAttribute(NameOID.COMMON_NAME, self.common_name)])
        now = datetime.datetime.now(datetime.timezone.utc)
        sans = [x509.DNSName("localhost")] + [
            x509.IPAddress(ipaddress.IPv4Address(a)) for a in (*FACTORY_ADDRESSES, "127.0.0.1")]
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=3650))
                .add_extension(x509.SubjectAlternativeName(sans), critical=False)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        self.dir.mkdir(parents=True, exist_ok=True)
        _write(self.key_file, _key_pem(key), 0o600)
        _write(self.cert_file, _pem(cert), 0o644)

    def _load(self) -> None:
        """Read the index and every certificate; build a TLS context for each."""
        index = json.loads(self.index_file.read_text()) if self.index_file.exists() else {}
        factory = x509.load_pem_x509_certificate(self.cert_file.read_bytes())
        held = [Held(fingerprint(factory), FACTORY_NAME, factory, factory=True)]
        for entry in index.get("certificates", []):
            pem = (self.own_dir / f"{entry['id']}.pem").read_bytes()
            certs = x509.load_pem_x509_certificates(pem)
            held.append(Held(entry["id"], entry["friendly_name"], certs[0], certs[1:]))
        default = index.get("default")
        if not any(h.id == default for h in held):
            default = held[0].id
        for h in held:
            h.default = h.id == default
        contexts = {}
        for h in held:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            if h.factory:
                ctx.load_cert_chain(self.cert_file, self.key_file)
            else:
                ctx.load_cert_chain(self.own_dir / f"{h.id}.pem", self.own_dir / f"{h.id}.key")
            ctx.sni_callback = self._sni
            contexts[h.id] = ctx
        self._held, self._contexts = held, contexts

    def _save_index(self) -> None:
        save_json(self.index_file, {
            "default": next(h.id for h in self._held if h.default),
            "certificates": [{"id": h.id, "friendly_name": h.friendly_name}
                             for h in self._held if not h.factory]})

    # --- what the listener and the pages use ----------------------------------------

    @property
    def context(self) -> ssl.SSLContext:
        with self._lock:
            return self._contexts[self.default().id]

    def _sni(self, sslobj, server_name, _ctx) -> None:
        if not server_name:
            return None
        with self._lock:
            default = self.default()
            if default.covers(server_name):
                return None
            for h in self._held:
                if h.covers(server_name):
                    sslobj.context = self._contexts[h.id]
                    break
        return None

    def held(self) -> list[Held]:
        """Every certificate, the factory one first."""
        with self._lock:
            return list(self._held)

    def get(self, cert_id: str) -> Held | None:
        with self._lock:
            return next((h for h in self._held if h.id == cert_id), None)

    def default(self) -> Held:
        with self._lock:
            return next(h for h in self._held if h.default)

    def fingerprint(self) -> str:
        """SHA-256 fingerprint of the default certificate (what a client
        connecting by address sees)."""
        return self.default().id

    def renew(self) -> str:
        """A new factory key and certificate (fault ``new_certificate``); new
        connections use them while the factory certificate is the default.
        Returns the default's fingerprint."""
        with self._lock:
            was_default = self.default().factory
            self._generate_factory()
            self._load()
            if was_default:
                for h in self._held:
                    h.default = h.factory
            self._save_index()
        return self.fingerprint()

    # --- changes -------------------------------------------------------------------

    def add(self, cert: x509.Certificate, key, chain: list[x509.Certificate] = (),
            friendly_name: str = "", default: bool = False) -> str:
        """Hold a certificate with its key and chain; returns its id. Refused
        when it is already held or the key is not the certificate's."""
        cert_id = fingerprint(cert)
        if key.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo) != \
                cert.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo):
            raise Refused(["certificate_file: the private key does not belong to the certificate"])
        with self._lock:
            if self.get(cert_id) is not None:
                raise Refused([f"certificate_file: this certificate is already present "
                               f"({self.get(cert_id).friendly_name})"])
            self.own_dir.mkdir(mode=0o700, exist_ok=True)
            _write(self.own_dir / f"{cert_id}.key", _key_pem(key), 0o600)
            _write(self.own_dir / f"{cert_id}.pem", b"".join(_pem(c) for c in [cert, *chain]), 0o644)
            name = friendly_name or _common_name(cert) or cert_id[:16]
            self._held.append(Held(cert_id, name, cert, list(chain)))
            if default:
                for h in self._held:
                    h.default = h.id == cert_id
            self._save_index()
            self._load()
        return cert_id

    def import_file(self, data: bytes, password: str) -> str:
        """Import: a PKCS#12 file or a PEM bundle holding a certificate and its
        private key (and any chain), opened with ``password``. Returns the new
        certificate's id; Refused: not a certificate, a wrong password, no
        private key in it, or already present."""
        cert, key, chain, name = read_bundle(data, password)
        return self.add(cert, key, chain, name)

    def set_default(self, cert_id: str) -> None:
        """Make ``cert_id`` the default (what clients without a matching SNI
        name get). Refused when there is no such certificate."""
        with self._lock:
            if self.get(cert_id) is None:
                raise Refused(["certificate: no such certificate"])
            for h in self._held:
                h.default = h.id == cert_id
            self._save_index()

    def export(self, cert_id: str, *, certificate: bool = True, private_key: bool = False,
               chain: bool = False, passphrase: str = "") -> tuple[str, bytes]:
        """(file name, PKCS#12 bytes) of the ticked parts of one certificate,
        protected by ``passphrase`` (none when empty). Refused: no such
        certificate, or nothing ticked."""
        held = self.get(cert_id)
        if held is None:
            raise Refused(["certificate: tick a certificate to export"])
        if not (certificate or private_key or chain):
            raise Refused(["include_certificate: tick at least one of the certificate, its "
                           "private key and its chain"])
        key = None
        if private_key:
            key_file = self.key_file if held.factory else self.own_dir / f"{held.id}.key"
            key = serialization.load_pem_private_key(key_file.read_bytes(), None)
        protect = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                   else serialization.NoEncryption())
        data = pkcs12.serialize_key_and_certificates(
            held.friendly_name.encode(), key, held.cert if certificate else None,
            held.chain if chain else None, protect)
        stem = "".join(c if c.isalnum() or c in "-." else "_" for c in
                       (_common_name(held.cert) or held.id[:16]))
        return f"{stem}.p12", data


def _common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def looks_like_pkcs12(data: bytes) -> bool:
    """True when ``data`` has the outer shape of a PKCS#12 file (a DER
    SEQUENCE, version 3, then pkcs7-data) whatever its password."""
    return data[:1] == b"\x30" and b"\x02\x01\x03" in data[:8] and _PKCS7_DATA in data[:40]


def read_bundle(data: bytes, password: str):
    """(certificate, key, chain, friendly name) from a PKCS#12 file or a PEM
    bundle; Refused with the appliance's words when it cannot be used."""
    secret = password.encode() if password else None
    if data.lstrip().startswith(b"-----BEGIN"):
        try:
            certs = x509.load_pem_x509_certificates(data)
        except ValueError:
            certs = []
        if not certs:
            raise Refused(["certificate_file: the file holds no certificate"])
        blocks = [m.group(0) for m in _PEM_KEY.finditer(data)]
        if not blocks:
            raise Refused(["certificate_file: the file holds no private key for the certificate"])
        try:
            key = serialization.load_pem_private_key(blocks[0], secret)
        except (TypeError, ValueError):
            raise Refused(["certificate_password: the password does not open the file"]) from None
        return certs[0], key, certs[1:], ""
    if not looks_like_pkcs12(data):
        raise Refused(["certificate_file: not a certificate file (PKCS#12 or PEM)"])
    try:
        p12 = pkcs12.load_pkcs12(data, secret)
    except ValueError:
        raise Refused(["certificate_password: the password does not open the file"]) from None
    if p12.cert is None and not p12.additional_certs:
        raise Refused(["certificate_file: the file holds no certificate"])
    if p12.key is None or p12.cert is None:
        raise Refused(["certificate_file: the file holds no private key for the certificate"])
    name = (p12.cert.friendly_name or b"").decode("utf-8", "replace")
    return p12.cert.certificate, p12.key, [c.certificate for c in p12.additional_certs], name

