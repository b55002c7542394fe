"""Security > Certificates of the simulated appliance, over real HTTPS on
127.0.0.1: the list, Export to a real PKCS#12 (opened by `openssl pkcs12`),
Import as a multipart upload with its errors, and the TLS listener's choice
of certificate by SNI."""
from __future__ import annotations

import hashlib
import socket
import ssl
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from hwprobe.appliance.pagemap import PAGES
from sim_helpers import GOOD_PASSWORD, Sim, error_of, notice_of, table_rows
from simulator.siteca import SiteCA

CERTS = PAGES["certificates"]
C = PAGES["common"]
SITE = "support.example.net"


@pytest.fixture(scope="module")
def ca():
    return SiteCA.create()


@pytest.fixture(scope="module")
def ready(tmp_path_factory):
    """One appliance with its password changed, shared by the tests here:
    each imports certificates of its own names."""
    s = Sim(tmp_path_factory.mktemp("sim")).start()
    b = s.browser().ready()
    yield s, b
    assert s.stop() == 0


def rows(b) -> list[dict]:
    r = b.get(CERTS["path"])
    assert r.status_code == 200
    return [dict(zip(CERTS["columns"], row)) for row in table_rows(r, CERTS["table"])]


def p12(cert, key, passphrase: str | None, chain=(), name=b"site") -> bytes:
    protect = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
               else serialization.NoEncryption())
    return pkcs12.serialize_key_and_certificates(name, key, cert, list(chain) or None, protect)


def upload(b, data: bytes, password: str, filename: str = "site.p12"):
    b.get(CERTS["import_page"])
    return b.http.post(b.sim.base + CERTS["import_action"], allow_redirects=False, timeout=20,
                       data={C["csrf_field"]: b.csrf, CERTS["password"]: password},
                       files={CERTS["file"]: (filename, data, "application/x-pkcs12")})


def export(b, cert_id: str, passphrase: str, *, key=True, chain=True, confirm=None):
    b.get(f"{CERTS['export_page']}?{CERTS['select']}={cert_id}")
    fields = {CERTS["select"]: cert_id, CERTS["include_certificate"]: "1",
              CERTS["passphrase"]: passphrase,
              CERTS["passphrase_confirm"]: passphrase if confirm is None else confirm}
    if key:
        fields[CERTS["include_key"]] = "1"
    if chain:
        fields[CERTS["include_chain"]] = "1"
    return b.post(CERTS["export_action"], fields)


def presented(sim, server_name: str | None) -> str:
    """SHA-256 of the certificate the listener presents for ``server_name`` (SNI)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", sim.ready["https_port"]), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_name) as tls:
            return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


def test_a_factory_appliance_lists_only_its_own_certificate_as_default(tmp_path):
    s = Sim(tmp_path).start()
    try:
        b = s.browser().ready()
        [only] = rows(b)
        assert only["default"] == CERTS["default_mark"]
        assert only["sha256"] == s.ready["fingerprint"] == presented(s, None)
        assert only["issuer"] == only["subject"] and "169.254.1.1" in only["alternative_names"]
        # no site: no site software, no /login API account
        assert "No site software is installed" in b.get(PAGES["updates"]["path"]).text
        token = b.http.post(s.base + "/oauth2/token", auth=("kit", "any"),
                            data={"grant_type": "client_credentials"}, timeout=20)
        assert token.status_code == 401
    finally:
        s.stop()


def test_imported_certificate_is_listed_and_exported_as_a_pkcs12_openssl_opens(ready, ca, tmp_path):
    sim, b = ready
    cert, key = ca.issue([SITE])
    r = upload(b, p12(cert, key, "Import-Pass-1", chain=[ca.cert]), "Import-Pass-1")
    assert r.status_code == 303, error_of(r)
    assert "Certificate imported" in notice_of(b.get(CERTS["path"]))
    mine = next(row for row in rows(b) if SITE in row["alternative_names"])
    assert mine["issuer"] == ca.cert.subject.rfc4514_string() and mine["default"] == ""
    assert mine["subject"].endswith(f"CN={SITE}") or f"CN={SITE}" in mine["subject"]

    r = export(b, mine["sha256"], "Export-Pass-2")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/x-pkcs12"
    assert r.headers["Content-Disposition"].endswith('.p12"')
    opened = pkcs12.load_pkcs12(r.content, b"Export-Pass-2")
    assert opened.cert.certificate == cert and opened.key is not None
    assert [c.certificate for c in opened.additional_certs] == [ca.cert]
    path = tmp_path / "export.p12"
    path.write_bytes(r.content)
    shown = subprocess.run(["openssl", "pkcs12", "-in", str(path), "-nodes", "-passin",
                            "env:P12PASS"], env={"P12PASS": "Export-Pass-2", "PATH": "/usr/bin:/bin"},
                           capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert "PRIVATE KEY" in shown.stdout and f"CN = {SITE}" in shown.stdout
    wrong = subprocess.run(["openssl", "pkcs12", "-in", str(path), "-nodes", "-passin",
                            "pass:not-it"], capture_output=True, text=True)
    assert wrong.returncode != 0


def test_export_with_two_different_passphrases_is_refused(ready):
    sim, b = ready
    cert_id = rows(b)[0]["sha256"]
    r = export(b, cert_id, "One-Pass-1", confirm="Other-Pass-2")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "passphrases differ" in error_of(r)


@pytest.mark.parametrize("case", ["wrong password", "not a certificate", "no key",
                                  "already present", "no file"])
def test_import_refuses_with_the_reason_and_adds_nothing(ready, ca, case):
    sim, b = ready
    before = rows(b)
    cert, key = ca.issue([f"{case.replace(' ', '-')}.example.net"])
    data, password, why = {
        "wrong password": (p12(cert, key, "Right-Pass-1"), "Wrong-Pass-1",
                           "password does not open"),
        "not a certificate": (b"%PDF-1.4 not a certificate at all", "x", "not a certificate"),
        "no key": (p12(cert, None, "Pass-3"), "Pass-3", "no private key"),
        "already present": (p12(*_factory(sim), "Pass-4"), "Pass-4", "already present"),
        "no file": (b"", "x", "choose a certificate file"),
    }[case]
    r = upload(b, data, password)
    assert r.status_code == 200, r.headers
    assert why in error_of(r)
    assert error_of(r).startswith((CERTS["file"], CERTS["password"]))
    assert rows(b) == before


def _factory(sim):
    from cryptography import x509

    cert = x509.load_pem_x509_certificate((sim.dir / "cert.pem").read_bytes())
    key = serialization.load_pem_private_key((sim.dir / "key.pem").read_bytes(), None)
    return cert, key


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_the_listener_picks_the_certificate_by_sni_and_the_default_for_the_rest(ready, ca):
    sim, _ = ready
    b = sim.browser()
    b.http.verify = False             # the default changes under it
    b.login(password=GOOD_PASSWORD)
    cert, key = ca.issue(["sni.example.net", "*.sni.example.net"])
    assert upload(b, p12(cert, key, "Sni-Pass-1"), "Sni-Pass-1").status_code == 303
    mine = next(row for row in rows(b) if "sni.example.net" in row["alternative_names"])
    default = next(row for row in rows(b) if row["default"])
    assert presented(sim, "sni.example.net") == mine["sha256"]
    assert presented(sim, "www.sni.example.net") == mine["sha256"]
    for other in (None, "elsewhere.example.net", "a.b.sni.example.net"):
        assert presented(sim, other) == default["sha256"]

    b.get(CERTS["path"])
    r = b.post(CERTS["default_action"], {CERTS["select"]: mine["sha256"]})
    assert r.status_code == 303
    try:
        assert presented(sim, None) == mine["sha256"]
        assert [row["sha256"] for row in rows(b) if row["default"]] == [mine["sha256"]]
    finally:
        b.get(CERTS["path"])
        b.post(CERTS["default_action"], {CERTS["select"]: default["sha256"]})
    assert presented(sim, None) == default["sha256"]


def test_certificates_and_the_default_survive_a_restart(tmp_path, ca):
    s = Sim(tmp_path).start()
    try:
        b = s.browser().ready()
        cert, key = ca.issue([SITE])
        assert upload(b, p12(cert, key, "Keep-Pass-1"), "Keep-Pass-1").status_code == 303
        mine = next(row for row in rows(b) if SITE in row["alternative_names"])
        b.post(CERTS["default_action"], {CERTS["select"]: mine["sha256"]})
        s.restart()
        assert presented(s, None) == mine["sha256"] == s.ready["fingerprint"]
        assert oct((s.dir / "certs" / f"{mine['sha256']}.key").stat().st_mode & 0o777) == "0o600"
    finally:
        s.stop()
