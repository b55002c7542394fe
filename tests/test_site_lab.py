"""Appliances in production in the lab: ``bringup lab up --site`` and the
production pair, with their certificate, site software, /login state and the
backup API (OAuth, permission, the password in the body, an NSB of the
simulator's own making)."""
from __future__ import annotations

import io
import socket
import ssl
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import PAIR_CLIENT
from simulator import control, nsb, siteupdate
from simulator import lab as labmod
from simulator.lab import PAIR
from site_helpers import SITE_SECRETS, Api, made_secrets

# the shared site lab (conftest.site_lab): these tests run on its xdist worker
pytestmark = [pytest.mark.lab, pytest.mark.xdist_group("site-lab"),
              pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")]
SITE = "support.example.net"


@pytest.fixture
def site(site_lab):
    """The shared site lab (conftest), its fault switches cleared afterwards."""
    yield site_lab
    control.send(site_lab.control, fault="clear")


def presented(lab, address: str, server_name: str | None) -> dict:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(lab.site["ca"])
    ctx.check_hostname = server_name is not None
    with labmod.in_netns(lab.laptop_ns):
        with socket.create_connection((address, 443), timeout=10) as raw:
            if server_name is None:
                ctx.verify_mode = ssl.CERT_NONE
                with ctx.wrap_socket(raw) as tls:
                    return {"der": tls.getpeercert(binary_form=True)}
            with ctx.wrap_socket(raw, server_hostname=server_name) as tls:
                return tls.getpeercert() | {"der": tls.getpeercert(binary_form=True)}


def test_site_lab_is_an_appliance_in_production_with_its_update_file(site):
    lab = site
    state = control.send(lab.control, get="state")["state"]
    assert state["hostname"] == SITE
    assert [(i["nic"], i["address"]) for i in state["ips"]] == [("nic1", "198.51.100.20"),
                                                              ("nic2", "203.0.113.20")]
    assert [u["must_change"] for u in state["users"]] == [False]
    # the certificate is the site CA's for its hostname, the default whatever the client asks
    seen = presented(lab, PAIR["primary"], SITE)
    assert ("DNS", SITE) in seen["subjectAltName"]
    assert presented(lab, PAIR["primary"], None)["der"] == seen["der"]
    # the laptop reaches it on the site's network without anything set by hand
    shown = subprocess.run(["ip", "-n", lab.laptop_ns, "-4", "-o", "addr", "show", "lan0"],
                           capture_output=True, text=True, check=True).stdout
    assert "198.51.100.250/24" in shown
    # secrets given in the environment are used, not kept: only the made account is in the file
    made = made_secrets(lab)
    assert set(made) == {"monitor_client_id", "monitor_client_secret"}
    mode = Path(lab.dir, "credentials.json").stat()
    assert stat.S_IMODE(mode.st_mode) == 0o600 and mode.st_uid == 0
    for secret in (SITE_SECRETS["BRINGUP_PASSWORD"], SITE_SECRETS["BRINGUP_API_SECRET"]):
        for path in Path(lab.dir).rglob("*"):
            if path.is_file() and not path.is_socket() and path.stat().st_size < 4 << 20:
                assert secret.encode() not in path.read_bytes(), path
    # the update file is where the lab said, and is one the simulator can install
    update = Path(lab.site["update_file"])
    assert update.parent == Path(lab.dir) and update.name.startswith("site-update.")
    with update.open("rb") as f:
        header = siteupdate.verify(f)
    assert header["hostname"] == SITE and header["software_version"] == state["software_version"]
    api = Api(lab, PAIR["primary"])
    token = api.token(SITE_SECRETS["BRINGUP_API_CLIENT_ID"], SITE_SECRETS["BRINGUP_API_SECRET"])
    health = api.request("GET", "/api/command", params={"action": "check_health"},
                         headers={"Authorization": f"Bearer {token}"})
    assert f">{SITE}</appliance>" in health.text


def test_backup_api_answers_the_documented_refusals_then_an_nsb_of_the_login_state(site):
    lab = site
    api = Api(lab, PAIR["primary"])
    # a token that is not one: 401
    r = api.backup("not-a-token", "Backup-Pw-1")
    assert r.status_code == 401 and "<error" in r.text
    # an API account without the backup permission: 403 (its command API still works)
    made = made_secrets(lab)
    monitor = api.token(made["monitor_client_id"], made["monitor_client_secret"])
    r = api.backup(monitor, "Backup-Pw-1")
    assert r.status_code == 403 and "permission" in r.text
    # the backup password in the body, as JSON: the NSB opens only with it
    token = api.token(SITE_SECRETS["BRINGUP_API_CLIENT_ID"], SITE_SECRETS["BRINGUP_API_SECRET"])
    r = api.backup(token, "Backup-Pw-1")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert int(r.headers["Content-Length"]) == len(r.content)
    assert b"Backup-Pw-1" not in r.content and b"Example Support" not in r.content
    header, state = nsb.read_state(io.BytesIO(r.content), "Backup-Pw-1")
    assert header["hostname"] == SITE and header["serial"] == "B400-0012345"
    assert state["site"]["name"] == "Example Support" and len(state["users"]) >= 3
    assert set(state["api_clients"]) == {SITE_SECRETS["BRINGUP_API_CLIENT_ID"], "monitoring"}
    with pytest.raises(nsb.NsbError) as wrong:
        nsb.read_state(io.BytesIO(r.content), "Not-The-Pw")
    assert wrong.value.reason == "wrong_password"
    # made large on purpose (the bench's switch): the length says so before the bytes come
    control.send(lab.control, fault="large_backup", value=5_000_000)
    r = api.backup(token, "Backup-Pw-1", stream=True)
    assert int(r.headers["Content-Length"]) > 5_000_000
    assert sum(len(c) for c in r.iter_content(1 << 20)) == int(r.headers["Content-Length"])
    # a body that is not the documented JSON is refused
    r = api.request("POST", "/api/backup", data=b"password", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert r.status_code == 400


def test_the_production_pair_holds_one_certificate_for_both_names_and_backs_up_its_failover_settings(
        pair):
    primary = presented(pair, PAIR["primary"], "support.example.net")
    backup = presented(pair, PAIR["backup"], "support-backup.example.net")
    assert primary["der"] == backup["der"]
    for address, hostname, role in ((PAIR["primary"], "support.example.net", "primary"),
                                    (PAIR["backup"], "support-backup.example.net", "backup")):
        api = Api(pair, address)
        token = api.token(*PAIR_CLIENT)
        health = api.request("GET", "/api/command", params={"action": "check_health"},
                             headers={"Authorization": f"Bearer {token}"}).text
        assert f">{hostname}</appliance>" in health and f">{role}</failover_role>" in health
        _, state = nsb.read_state(io.BytesIO(api.backup(token, "Pair-Pw-1").content), "Pair-Pw-1")
        # what makes restoring it onto the backup unwise: the failover settings and the key
        assert state["role"] == role and state["peer_key"] and state["shared_ips"] == [PAIR["shared"]]
