"""The recovery kit folder on its own (no appliance): how it is written, and
every way readiness finds one unfit (exit 1) or unreadable (exit 2). Kits are
made here with the same writer `bringup kit` uses, from the example sheet, a
certificate of the lab's site CA and opaque backup bytes."""
from __future__ import annotations

import datetime as dt
import json
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from hwprobe.runbook.kitcheck import check_kit
from hwprobe.settings.kit import (KitIncomplete, KitUnreadable, KitWriter, MANIFEST, file_names,
                                  read_kit, stem)
from hwprobe.errors import BadInput
from simulator.siteca import SiteCA

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "assets" / "example-sheet.toml"
PASSPHRASE = "Kit-Passphrase-77"
APPLIANCE = {"address": "198.51.100.20", "model": "B400", "serial": "B400-0012345",
             "software_version": "7.1.2", "base_version": "6.0.2",
             "system_time": "2026-12-06 20:51:42 UTC", "firmware_profile": "legacy",
             "hostname": "support.example.net", "failover_role": "none"}


@pytest.fixture(scope="module")
def ca():
    return SiteCA.create()


def p12(ca, names=("support.example.net",), *, key=True, days=397, passphrase=PASSPHRASE):
    cert, k = ca.issue(list(names), days=days)
    data = pkcs12.serialize_key_and_certificates(
        b"site", k if key else None, cert, [ca.cert],
        serialization.BestAvailableEncryption(passphrase.encode()))
    from hwprobe.appliance.certificates import open_pkcs12

    return data, open_pkcs12(data, passphrase) if key else None


def make_kit(folder: Path, ca, *, names=("support.example.net",), sheet=None, days=397,
             backup=b"opaque NSB bytes" * 100) -> Path:
    data, opened = p12(ca, names, days=days)
    files = file_names(APPLIANCE, "support.example.net")
    w = KitWriter(folder)
    w.start()
    w.add_bytes("certificate", files["certificate"], data)
    w.add_bytes("sheet", files["sheet"], (sheet or EXAMPLE.read_text()).encode())
    w.add_bytes("login_backup", files["login_backup"], backup)
    w.finish(taken_by="test", appliance=APPLIANCE, certificate={
        "hostname": "support.example.net", "sha256": opened.sha256})
    return folder


def test_a_kit_is_written_private_named_as_the_vendor_advises_and_passes_readiness(tmp_path, ca):
    kit = make_kit(tmp_path / "kit", ca)
    assert stat.S_IMODE(kit.stat().st_mode) == 0o700
    names = sorted(p.name for p in kit.iterdir())
    s = "B400-0012345_7.1.2_6.0.2_20261206T205142Z"
    assert s == stem("B400-0012345", "7.1.2", "6.0.2", "2026-12-06 20:51:42 UTC")
    assert names == [f"certificate-support.example.net-{s}.p12", f"login-backup-{s}.nsb",
                     MANIFEST, f"sheet-{s}.toml"]
    assert {stat.S_IMODE(p.stat().st_mode) for p in kit.iterdir()} == {0o600}
    report = check_kit(kit, PASSPHRASE)
    assert report.ok, report.problems
    assert report.software_version == "7.1.2" and report.age_days == 0.0
    assert 390 < report.certificate_days_left < 398


def problems_after(tmp_path, ca, damage, **kit_args) -> list[str]:
    kit = make_kit(tmp_path / "kit", ca, **kit_args)
    damage(kit)
    report = check_kit(kit, PASSPHRASE)
    assert not report.ok
    return report.problems


def test_one_byte_changed_is_found_by_its_hash(tmp_path, ca):
    def flip(kit):
        nsb = next(kit.glob("login-backup-*.nsb"))
        data = bytearray(nsb.read_bytes())
        data[7] ^= 0x01
        nsb.write_bytes(bytes(data))

    [line] = problems_after(tmp_path, ca, flip)
    assert line.startswith("login-backup-") and "SHA-256 does not match the manifest" in line


def test_a_wrong_passphrase_is_one_line(tmp_path, ca):
    kit = make_kit(tmp_path / "kit", ca)
    [line] = check_kit(kit, "Not-The-Passphrase").problems
    assert line.startswith("certificate-") and "passphrase does not open it" in line


def test_a_certificate_for_another_hostname_is_refused(tmp_path, ca):
    problems = problems_after(tmp_path, ca, lambda kit: None, names=("other.example.net",))
    assert problems == [next(p for p in problems if "does not cover support.example.net" in p)]


def test_a_certificate_ending_within_30_days_is_refused(tmp_path, ca):
    [line] = problems_after(tmp_path, ca, lambda kit: None, days=12)
    assert "within 30 days" in line


def test_a_sheet_the_firmware_cannot_hold_and_an_empty_backup_are_each_a_line(tmp_path, ca):
    eleven = EXAMPLE.read_text().replace('servers = ["198.51.100.5"]', 'servers = ["198.51.100.5", '
                                         + ", ".join(f'"198.51.100.{n}"' for n in range(60, 70))
                                         + "]")
    problems = problems_after(tmp_path, ca, lambda kit: None, sheet=eleven, backup=b"")
    assert any("[syslog].servers" in p for p in problems), problems
    assert any("the /login backup is empty" in p for p in problems), problems


def test_an_old_kit_says_its_age(tmp_path, ca):
    kit = make_kit(tmp_path / "kit", ca)
    report = check_kit(kit, PASSPHRASE, now=dt.datetime.now(dt.timezone.utc)
                       + dt.timedelta(days=120))
    assert report.age_days == pytest.approx(120, abs=0.2)
    assert any("days old, older than 90 days" in p for p in report.problems)


def test_a_kit_without_its_manifest_is_incomplete_and_a_file_is_not_a_kit(tmp_path, ca):
    kit = make_kit(tmp_path / "kit", ca)
    (kit / MANIFEST).unlink()
    (kit / ".login-backup-x.nsb.part").write_bytes(b"half")
    with pytest.raises(KitIncomplete) as incomplete:
        read_kit(kit)
    assert "interrupted while writing .login-backup-x.nsb.part" in str(incomplete.value)
    assert incomplete.value.exit_status == 1
    assert [p for p in check_kit(kit, PASSPHRASE).problems if "not complete" in p]
    with pytest.raises(KitUnreadable) as unreadable:
        read_kit(kit / "sheet.toml")
    assert unreadable.value.exit_status == 2
    (kit / MANIFEST).write_text("{not json")
    with pytest.raises(KitUnreadable):
        read_kit(kit)


def test_the_writer_never_overwrites_a_kit_and_clears_only_its_own_leftovers(tmp_path, ca):
    kit = make_kit(tmp_path / "kit", ca)
    with pytest.raises(BadInput, match="already holds a kit"):
        KitWriter(kit).start()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(BadInput, match="holds other files"):
        KitWriter(other).start()
    left = tmp_path / "left"
    left.mkdir()
    (left / ".sheet-x.toml.part").write_text("half")
    w = KitWriter(left)
    w.start()
    assert w.cleaned == [".sheet-x.toml.part"] and list(left.iterdir()) == []


def test_an_abandoned_kit_leaves_nothing(tmp_path):
    w = KitWriter(tmp_path / "new")
    w.start()
    w.add_bytes("sheet", "sheet-x.toml", b"x" * 100)
    part = w.part("login_backup", "login-backup-x.nsb")
    part.write(b"y" * 1000)
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == [
        ".login-backup-x.nsb.part", ".sheet-x.toml.part"]
    w.abandon()
    assert not (tmp_path / "new").exists()


def test_a_manifest_naming_a_file_outside_the_kit_is_unreadable(tmp_path, ca):
    kit = make_kit(tmp_path / "kit", ca)
    data = json.loads((kit / MANIFEST).read_text())
    data["files"]["sheet"]["name"] = "../../etc/passwd"
    (kit / MANIFEST).write_text(json.dumps(data))
    with pytest.raises(KitUnreadable, match="not a file of the kit"):
        read_kit(kit)
    os.chmod(kit, 0o700)


def test_a_kit_file_s_sha256_is_that_of_its_bytes_however_they_are_written(tmp_path):
    """Large blocks are hashed behind the writing, on another thread; a
    buffer its writer fills again (a copy's bytearray), and small blocks
    between large ones, still go into the digest in order and as written."""
    import hashlib
    import os

    from hwprobe.settings.kit import PartFile

    part = PartFile(tmp_path, "file.bin")
    whole = hashlib.sha256()
    buffer = bytearray(300 * 1024)
    for n in range(40):
        big = os.urandom(256 * 1024)
        part.write(big)
        whole.update(big)
        buffer[:] = os.urandom(len(buffer))     # the same buffer, filled again each time
        part.write(buffer)
        whole.update(buffer)
        small = bytes([n]) * 100
        part.write(small)
        whole.update(small)
    kept = part.close()
    assert kept.sha256 == whole.hexdigest()
    assert kept.size == (256 + 300) * 1024 * 40 + 100 * 40
    assert hashlib.sha256(part.path.read_bytes()).hexdigest() == whole.hexdigest()


def test_a_manifest_s_sha256_in_upper_case_is_the_same_hash_for_readiness_and_the_finish(
        tmp_path, ca):
    """A manifest copied by hand may carry its hashes in upper case: readiness
    and apply --kit's own check read them alike (readiness said fit, the
    finish refused the same kit as "changed or damaged")."""
    from hwprobe.procedure.finish.inputs import read_inputs

    kit = make_kit(tmp_path / "kit", ca)
    manifest = kit / MANIFEST
    data = json.loads(manifest.read_text())
    for entry in data["files"].values():
        entry["sha256"] = entry["sha256"].upper()
    manifest.write_text(json.dumps(data))
    assert check_kit(kit, PASSPHRASE).ok
    inputs = read_inputs(kit, PASSPHRASE)
    assert inputs.kit.manifest.files["sheet"].sha256.islower()
