"""The site's certificate authority in the lab: what signs the certificate of
an appliance in production (its hostname, the same on both of a pair).

A real site buys its certificate from a public CA or has one from its own;
the lab makes a small CA of its own in the lab's directory (``ca.pem``, and
``ca.key`` readable by root only) and issues from it. Tests use ``issue`` for
certificates that are wrong on purpose (another hostname, about to expire).
"""
from __future__ import annotations

import datetime
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


class SiteCA:
    """A CA certificate and key; ``issue`` signs server certificates."""

    def __init__(self, cert: x509.Certificate, key):
        self.cert, self.key = cert, key

    @classmethod
    def create(cls, directory: str | Path | None = None, name: str = "Example Site CA") -> "SiteCA":
        """A new CA (kept in ``directory`` when given: ca.pem, ca.key 0600)."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Net"),
                             x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=2))
                .not_valid_after(now + datetime.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(
                    digital_signature=True, key_cert_sign=True, crl_sign=True,
                    content_commitment=False, key_encipherment=False, data_encipherment=False,
                    key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
                .sign(key, hashes.SHA256()))
        ca = cls(cert, key)
        if directory is not None:
            ca.save(directory)
        return ca

    @classmethod
    def load(cls, directory: str | Path) -> "SiteCA":
        d = Path(directory)
        return cls(x509.load_pem_x509_certificate((d / "ca.pem").read_bytes()),
                   serialization.load_pem_private_key((d / "ca.key").read_bytes(), None))

    def save(self, directory: str | Path) -> None:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        (d / "ca.pem").write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        fd = os.open(d / "ca.key", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(self.key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))

    def issue(self, hostnames: list[str], *, days: int = 397,
              expired: bool = False) -> tuple[x509.Certificate, object]:
        """(certificate, key) for ``hostnames`` (the first is the subject's
        common name), valid ``days`` from now (or ended yesterday)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        start = now - datetime.timedelta(days=days + 2 if expired else 1)
        end = now - datetime.timedelta(days=1) if expired else now + datetime.timedelta(days=days)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Net"),
                                         x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
                .issuer_name(self.cert.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(end)
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hostnames]),
                               critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                               critical=False)
                .sign(self.key, hashes.SHA256()))
        return cert, key
