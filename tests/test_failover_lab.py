"""Failover drills against two paired simulated appliances: the backup is made
primary through the command API by `bringup failover promote`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PAIR_CLIENT
from simulator import lab as labmod
from simulator.lab import PAIR

pytestmark = pytest.mark.lab
ROOT = Path(__file__).resolve().parent.parent
CLIENT = PAIR_CLIENT


def failover(lab, *args, secret=CLIENT[1]):
    env = dict(os.environ, PYTHONPATH=str(ROOT), BRINGUP_API_CLIENT_ID=CLIENT[0],
               BRINGUP_API_SECRET=secret)
    return subprocess.run(["ip", "netns", "exec", lab.laptop_ns, sys.executable, "-m", "bringup",
                           "failover", *args, "--json"], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=60)


def role(lab, address):
    r = failover(lab, "status", "--address", address)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["role"]


def test_primary_down_backup_promoted_and_confirmed(pair):
    assert role(pair, PAIR["backup"]) == "backup"
    labmod.stop_appliance(pair.name, "primary")
    r = failover(pair, "promote", "--address", PAIR["backup"])
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["before"]["role"] == "backup" and out["after"]["role"] == "primary"
    assert "<success" in out["answer"]["xml"] and "Successfully changed role." in out["answer"]["xml"]
    assert role(pair, PAIR["backup"]) == "primary"


def test_promote_with_primary_up_demotes_it(pair):
    r = failover(pair, "promote", "--address", PAIR["backup"])
    assert r.returncode == 0, r.stderr
    assert role(pair, PAIR["primary"]) == "backup"


def test_wrong_secret_is_refused_and_changes_nothing(pair):
    labmod.stop_appliance(pair.name, "primary")
    r = failover(pair, "promote", "--address", PAIR["backup"], secret="not-the-secret")
    assert r.returncode == 1
    assert "refused the API client id or secret" in r.stderr
    assert "not-the-secret" not in r.stderr + r.stdout
    assert role(pair, PAIR["backup"]) == "backup"


def test_unreachable_peer_says_so(pair):
    r = failover(pair, "status", "--address", "198.51.100.99")
    assert r.returncode == 1 and "did not answer" in r.stderr


def test_error_answer_is_shown_and_nothing_changes(pair):
    labmod.stop_appliance(pair.name, "primary")
    r = failover(pair, "promote", "--address", PAIR["backup"], "--data-sync-first")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert not out["ok"] and "<error" in out["answer"]["xml"]
    assert "peer appliance" in out["answer"]["message"]
    assert role(pair, PAIR["backup"]) == "backup"


# --- the documented command API (issue 13) ---------------------------------------------

def test_sync_first_starts_the_sync_and_promote_waits_for_the_role(pair):
    r = failover(pair, "promote", "--address", PAIR["backup"], "--data-sync-first", "--wait", "40")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert ("Successfully started data sync. Role change will occur upon successful completion."
            in out["answer"]["xml"])
    assert out["after"]["role"] == "primary" and out["after"]["last_data_sync_status"] == "success"
    assert "waiting for the data sync: role still backup" in r.stderr
    assert out["waited_seconds"] > 0 and not out["timed_out"]
    assert role(pair, PAIR["primary"]) == "backup"


def test_sync_first_wait_is_bounded_and_says_so(pair):
    r = failover(pair, "promote", "--address", PAIR["backup"], "--data-sync-first", "--wait", "0")
    assert r.returncode == 1
    assert "did not complete within 0 s" in r.stderr and "still backup" in r.stderr
    assert json.loads(r.stdout)["timed_out"] is True


def test_health_answer_has_the_documented_shape(pair):
    import xml.etree.ElementTree as ET

    r = failover(pair, "status", "--address", PAIR["primary"])
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    root = ET.fromstring(out["xml"])
    ns = "{https://www.beyondtrust.com/namespaces/API/command}"
    assert root.tag == ns + "health_check"
    names = [el.tag.replace(ns, "") for el in root]
    assert names == ["appliance", "version", "success", "failover_role", "enabled_shared_ips",
                     "last_data_sync_time", "last_data_sync_status"]   # no error_message when healthy
    assert root.find(ns + "appliance").get("id").count("-") == 4      # a GUID
    assert out["hostname"] == (root.find(ns + "appliance").text or "") and out["success"] is True
    assert out["shared_ips"] == [PAIR["shared"]]
    backup = json.loads(failover(pair, "status", "--address", PAIR["backup"]).stdout)
    assert "enabled_shared_ips" not in backup["xml"] and backup["shared_ips"] == []
    # a production pair's appliances have their names, and check_health says them
    assert out["hostname"] == "support.example.net"
    assert backup["hostname"] == "support-backup.example.net"
    assert ">support-backup.example.net</appliance>" in backup["xml"]


API_PROBE = r'''
import base64, http.client, json, ssl, sys
host, cid, secret = sys.argv[1:4]
ctx = ssl._create_unverified_context()   # lab only: the certificate is the simulator's own
def call(method, path, body="", headers={}):
    c = http.client.HTTPSConnection(host, 443, context=ctx, timeout=10)
    c.request(method, path, body, {"Content-Type": "application/x-www-form-urlencoded", **headers})
    r = c.getresponse()
    out = (r.status, r.getheader("Connection"), r.read().decode())
    c.close()
    return out
basic = "Basic " + base64.b64encode(f"{cid}:{secret}".encode()).decode()
tokens = []
for _ in range(31):
    s, conn, body = call("POST", "/oauth2/token", "grant_type=client_credentials", {"Authorization": basic})
    tokens.append(json.loads(body))
def health(tok):
    return call("POST", "/api/command", "action=check_health", {"Authorization": "Bearer " + tok})
print(json.dumps({"token": tokens[0] | {"access_token": "-"}, "token_connection": conn,
                  "oldest": health(tokens[0]["access_token"])[0],
                  "second": health(tokens[1]["access_token"])[0],
                  "newest": health(tokens[30]["access_token"])[:2],
                  "xsd": call("GET", "/api/command.xsd")[::2]}))
'''


def test_api_closes_connections_caps_tokens_at_30_and_serves_the_xsd(pair):
    r = subprocess.run(["ip", "netns", "exec", pair.laptop_ns, sys.executable, "-c", API_PROBE,
                        PAIR["primary"], *CLIENT], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["token"] == {"access_token": "-", "token_type": "Bearer", "expires_in": 3600}
    assert out["token_connection"] == "close" and out["newest"] == [200, "close"]
    assert out["oldest"] == 401 and out["second"] == 200      # the 31st token dropped the first
    status, xsd = out["xsd"]
    assert status == 200 and '<xs:element name="health_check">' in xsd


def test_a_certificate_other_than_the_one_kept_for_the_address_stops_until_trusted(pair):
    """bringup keeps one certificate per production address (a kit, verify
    or the run that moved the appliance there recorded it); failover trusts
    only that one, as every other command does, and keeps the first one it
    sees. A re-imaged appliance is trusted with --trust-new-certificate."""
    from hwprobe.appliance import pins

    r = failover(pair, "status", "--address", PAIR["backup"])
    assert r.returncode == 0, r.stderr
    kept = pins.pinned_fingerprint(PAIR["backup"])
    assert kept, "the first certificate seen was not kept"
    pins.pin_fingerprint(PAIR["backup"], "ab" * 32)         # another appliance's, say
    r = failover(pair, "promote", "--address", PAIR["backup"])
    assert r.returncode == 1, r.stdout + r.stderr
    assert "certificate changed" in r.stderr and "--trust-new-certificate" in r.stderr
    assert "Traceback" not in r.stderr
    r = failover(pair, "status", "--address", PAIR["backup"], "--trust-new-certificate")
    assert r.returncode == 0, r.stderr
    assert pins.pinned_fingerprint(PAIR["backup"]) == kept
    assert role(pair, PAIR["backup"]) == "backup"             # the refused promote sent nothing
