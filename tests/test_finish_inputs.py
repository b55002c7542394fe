"""The kit is checked before the finish sends anything (no lab: `bringup
apply --kit` stops before it takes the port): a certificate for another
hostname, an expired one, a passphrase that does not open it, a backup file
changed or gone since the kit was taken, a kit that is not whole; each is
one line naming the file, exit 2 (1 for a kit cut short)."""
from __future__ import annotations

import json

import pytest

from bringup.cli import main
from finish_helpers import FINISH_ENV, make_kit


@pytest.fixture
def env(monkeypatch, state_dir):
    for key, value in FINISH_ENV.items():
        monkeypatch.setenv(key, value)
    return monkeypatch


def apply_kit(capsys, kit) -> tuple[int, str]:
    try:
        code = main(["apply", "--kit", str(kit), "--address", "169.254.1.3"])
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out + out.err


def _break(kit, how: str):
    manifest = json.loads((kit / "manifest.json").read_text())
    backup = kit / manifest["files"]["login_backup"]["name"]
    if how == "changed":
        backup.write_bytes(backup.read_bytes() + b"x")
    elif how == "gone":
        backup.unlink()
    elif how == "cut short":
        (kit / "manifest.json").unlink()
    return kit


@pytest.mark.parametrize("case, code, words", [
    ("another hostname", 2, "certificate-support.example.net-B400.p12: the certificate is for "
     "other.example.net, not the sheet's hostname support.example.net: every client of the site "
     "would refuse it. Refused before anything was sent"),
    ("expired", 2, "certificate-support.example.net-B400.p12: the certificate expired on "),
    ("wrong passphrase", 2, "certificate-support.example.net-B400.p12: the passphrase "
     "(BRINGUP_CERTIFICATE_PASSPHRASE) does not open it; nothing was sent"),
    ("changed", 2, "login-backup-B400.nsb is not the file the kit was taken with (its size or "
     "SHA-256 differs from the manifest): changed or damaged since; nothing was sent"),
    ("gone", 2, "login-backup-B400.nsb is missing; nothing was sent"),
    ("cut short", 1, "not complete: no manifest.json"),
])
def test_a_kit_unfit_for_the_finish_is_refused_before_anything_is_sent(
        env, capsys, tmp_path, case, code, words):
    kit = make_kit(tmp_path / "kit", names=("other.example.net",) if case == "another hostname"
                   else ("support.example.net",), expired=case == "expired")
    if case == "wrong passphrase":
        env.setenv("BRINGUP_CERTIFICATE_PASSPHRASE", "Not-The-Passphrase-1")
    got, text = apply_kit(capsys, _break(kit, case))
    lines = [line for line in text.splitlines() if line.strip()]
    assert got == code and len(lines) == 1 and words in lines[0], text
    assert "Traceback" not in text


def test_a_secret_missing_without_a_terminal_is_named_and_nothing_is_contacted(
        env, capsys, tmp_path):
    env.delenv("BRINGUP_BACKUP_PASSWORD")
    got, text = apply_kit(capsys, make_kit(tmp_path / "kit"))
    assert got == 2 and ("BRINGUP_BACKUP_PASSWORD is not set and there is no terminal to ask: "
                         "give the /login backup's password in BRINGUP_BACKUP_PASSWORD; "
                         "nothing was contacted") in text
