"""The finish of a site in the simulated appliance, over real HTTPS on
127.0.0.1: Updates (no site software on a factory box; the vendor offers the
site package only with a valid certificate for the hostname; an update file
is checked whole; an install keeps the appliance silent for a while), and
/login's Restore Settings (its own upload and backup password, refusals that
change nothing, a restore that restarts /login and brings the backup's API
accounts)."""
from __future__ import annotations

import time

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from hwprobe.appliance.pagemap import PAGES
from sim_helpers import Sim, error_of, notice_of, table_rows, value_of, wait_until
from simulator import nsb, siteupdate
from simulator.siteca import SiteCA

# the tests walk one appliance through the finish, in order: one worker runs them all
pytestmark = pytest.mark.xdist_group("sim-finish")
U, L, CERTS, C = PAGES["updates"], PAGES["login_admin"], PAGES["certificates"], PAGES["common"]
SITE = "support.example.net"
BACKUP_PASSWORD = "Backup-Pw-Sim-55"
API = ("kit-account", "Api-Secret-Sim-81")
LOGIN_STATE = {"site": {"name": "Example Support", "hostname": SITE}, "users": [],
               "api_clients": {API[0]: {"secret_sha256": __import__("hashlib").sha256(
                   API[1].encode()).hexdigest(), "permissions": ["command", "backup"]}},
               "site_software": {"version": "7.1.2", "hostname": SITE}, "role": "none"}


def nsb_bytes(password: str = BACKUP_PASSWORD, version: str = "7.1.2") -> bytes:
    return b"".join(nsb.Writer(LOGIN_STATE, password, about={"software_version": version}))


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """One appliance walked through the finish by the tests below, in order:
    its password changed and its hostname set first."""
    s = Sim(tmp_path_factory.mktemp("sim"), "--install-seconds", "1.5",
            "--login-restart-seconds", "1").start()
    b = s.browser().ready()
    g = PAGES["global_config"]
    r = b.save(PAGES["ip_config"]["path"], g["action"], {g["hostname"]: SITE})
    assert r.status_code == 303, error_of(r)
    yield s, b
    assert s.stop() == 0


def upload(b, page: str, action: str, field: str, data: bytes, **fields):
    b.get(page)
    return b.http.post(b.sim.base + action, allow_redirects=False, timeout=30,
                       data={C["csrf_field"]: b.csrf, **fields},
                       files={field: ("file.bin", data, "application/octet-stream")})


def site_certificate(b, ca, names=(SITE,)) -> None:
    cert, key = ca.issue(list(names))
    data = pkcs12.serialize_key_and_certificates(b"site", key, cert, [ca.cert],
                                                 serialization.BestAvailableEncryption(b"pp"))
    r = upload(b, CERTS["import_page"], CERTS["import_action"], CERTS["file"], data,
               **{CERTS["password"]: "pp"})
    assert r.status_code == 303, error_of(r)
    b.get(CERTS["path"])
    r = b.post(CERTS["default_action"], {CERTS["select"]: cert.fingerprint(
        __import__("cryptography.hazmat.primitives.hashes", fromlist=["SHA256"]).SHA256()).hex()})
    assert r.status_code == 303, error_of(r)


def test_a_factory_appliance_has_no_site_software_and_no_login(sim):
    s, b = sim
    page = b.get(U["path"])
    assert "No site software is installed." in page.text
    assert value_of(page, U["site_version"]) == ""
    assert b.http.get(s.base + L["path"], timeout=10).status_code == 404


def test_the_vendor_offers_the_site_package_only_when_reached_and_with_a_valid_certificate(
        sim, tmp_path):
    s, b = sim
    b.get(U["path"])
    r = b.post(U["check_action"], {})
    assert r.status_code == 200 and "cannot reach the update server" in error_of(r)
    s.fault("update_server", True)
    try:
        b.get(U["path"])
        assert b.post(U["check_action"], {}).status_code == 303
        page = b.get(U["path"])
        assert "only once the default certificate is a valid one" in notice_of(page)
        assert table_rows(page, U["available_table"]) == []
        # an update file for the site is refused too while the factory certificate is the default
        update = siteupdate.write(tmp_path / "site.nsu", hostname=SITE, software_version="7.1.2",
                                  base_version="6.0.2", size=300_000)
        r = upload(b, U["path"], U["upload_action"], U["file"], update.read_bytes())
        assert r.status_code == 200 and "valid certificate for support.example.net" in error_of(r)
    finally:
        s.fault("update_server", False)


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_an_update_file_is_checked_whole_then_installs_and_the_appliance_restarts(sim, tmp_path):
    s, b = sim
    site_certificate(b, SiteCA.create())
    update = siteupdate.write(tmp_path / "site.nsu", hostname=SITE, software_version="7.1.2",
                              base_version="6.0.2", size=300_000)
    data = bytearray(update.read_bytes())
    data[-10] ^= 0xFF
    r = upload(b, U["path"], U["upload_action"], U["file"], bytes(data))
    assert "damaged" in error_of(r)
    r = upload(b, U["path"], U["upload_action"], U["file"], b"not an update")
    assert "not a site update file" in error_of(r)
    assert s.stats()["changes"].get("install_site_software", 0) == 0

    r = upload(b, U["path"], U["upload_action"], U["file"], update.read_bytes())
    assert r.status_code == 303, error_of(r)
    wait_until(lambda: s.fault("delay", 0)["faults"]["rebooting"], timeout=5, step=0.05)
    with pytest.raises(requests.ConnectionError):
        b.get(U["path"], timeout=3)
    back = s.browser()
    back.http.verify = False        # the site's certificate is the default now
    wait_until(lambda: _answers(back), timeout=15)
    back.login(password="Tr4il-Head!")
    page = back.get(U["path"])
    assert (value_of(page, U["site_version"]), value_of(page, U["site_hostname"])) == (
        "7.1.2", SITE)
    assert s.stats()["changes"]["install_site_software"] == 1
    r = upload(back, U["path"], U["upload_action"], U["file"], update.read_bytes())
    assert "already installed" in error_of(r)


def _answers(b) -> bool:
    try:
        return b.get(PAGES["login"]["path"], timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def _login_web(s) -> requests.Session:
    http = requests.Session()
    http.trust_env, http.verify = False, False
    page = http.get(s.base + L["path"], timeout=10)
    csrf = page.text.split(f'name="{C["csrf_field"]}" value="')[1].split('"')[0]
    r = http.post(s.base + L["path"], allow_redirects=False, timeout=10,
                  data={C["csrf_field"]: csrf, L["username"]: "admin", L["password"]: "password"})
    assert r.status_code == 303, r.text
    return http


def _restore(s, http, data: bytes, password: str) -> requests.Response:
    page = http.get(s.base + L["software_page"], timeout=10)
    csrf = page.text.split(f'name="{C["csrf_field"]}" value="')[1].split('"')[0]
    return http.post(s.base + L["restore_action"], allow_redirects=False, timeout=30,
                     data={C["csrf_field"]: csrf, L["backup_password"]: password},
                     files={L["file"]: ("site.nsb", data, "application/octet-stream")})


def _token(s) -> int:
    return requests.post(s.base + "/oauth2/token", auth=API, verify=False, timeout=10,
                         data={"grant_type": "client_credentials"}).status_code


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_restore_settings_refuses_without_change_then_restores_and_restarts_login(sim):
    s, _ = sim
    http = _login_web(s)
    good = nsb_bytes()
    damaged = bytearray(good)
    damaged[len(good) // 2] ^= 0x01
    for data, password, words in (
            (good, "Not-The-Backup-Pw-1", "backup_password: the backup password does not open"),
            (bytes(damaged), BACKUP_PASSWORD, "backup_file: the backup file is damaged"),
            (b"hello", BACKUP_PASSWORD, "backup_file: not a backup file"),
            (nsb_bytes(version="24.1.1"), BACKUP_PASSWORD,
             "backup_file: this backup was made by software 24.1.1, newer than this "
             "appliance's 7.1.2")):
        r = _restore(s, http, data, password)
        assert r.status_code == 200 and error_of(r).startswith(words), error_of(r)
    assert s.stats()["changes"].get("restore_login", 0) == 0 and _token(s) == 401

    r = _restore(s, http, good, BACKUP_PASSWORD)
    assert r.status_code == 303
    assert requests.get(s.base + "/check_health", verify=False, timeout=5).status_code == 503
    wait_until(lambda: _token(s) == 200, timeout=10)
    assert s.stats()["changes"]["restore_login"] == 1


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_an_upload_is_read_at_the_rate_the_lab_sets(sim):
    s, _ = sim
    b = s.browser()
    b.http.verify = False           # the site's certificate is the default now
    b.login(password="Tr4il-Head!")
    s.fault("upload_rate", 20_000)
    try:
        started = time.monotonic()
        upload(b, CERTS["import_page"], CERTS["import_action"], CERTS["file"], b"x" * 40_000,
               **{CERTS["password"]: "pp"})
        assert time.monotonic() - started >= 1.5
    finally:
        s.fault("clear")
    assert s.fault("delay", 0)["faults"]["upload_rate"] == 0
