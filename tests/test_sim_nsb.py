"""The simulator's own NSB (/login backup) and its multipart reader: what
issue 23's Restore Settings will open, and what refuses a damaged file."""
from __future__ import annotations

import io

import pytest
import requests

from simulator import nsb
from simulator.multipart import BadUpload, read_form

STATE = {"site": {"name": "Example Support"}, "users": [{"username": "arivera"}]}


def made(password="Backup-Pw-1", padding=0, chunk=nsb.CHUNK) -> bytes:
    writer = nsb.Writer(STATE, password, padding=padding, about={"software_version": "7.1.2"},
                        chunk=chunk)
    data = b"".join(writer)
    assert len(data) == writer.size          # the length is known before the first byte
    return data


def test_an_nsb_opens_with_its_password_and_holds_the_login_state():
    header, state = nsb.read_state(io.BytesIO(made(padding=3_000_000)), "Backup-Pw-1")
    assert state == STATE and header["software_version"] == "7.1.2"


@pytest.mark.parametrize("damage, reason", [
    (lambda d: d[:-1], "corrupt"),                          # cut short
    (lambda d: d + b"x", "corrupt"),                        # bytes after the end
    (lambda d: d[:-40] + bytes([d[-40] ^ 1]) + d[-39:], "corrupt"),   # one bit of session data
    (lambda d: b"PK\x03\x04" + d[4:], "not_nsb"),           # not one at all
])
def test_a_damaged_nsb_is_refused_as_damaged_not_as_a_wrong_password(damage, reason):
    data = made(padding=100_000, chunk=64 * 1024)
    with pytest.raises(nsb.NsbError) as refused:
        nsb.read_state(io.BytesIO(damage(data)), "Backup-Pw-1")
    assert refused.value.reason == reason


def test_a_wrong_password_is_told_apart():
    with pytest.raises(nsb.NsbError) as refused:
        nsb.read_state(io.BytesIO(made()), "Not-It")
    assert refused.value.reason == "wrong_password"


@pytest.mark.parametrize("size", [0, 1, 256 * 1024 - 1, 256 * 1024 + 7, 3_000_001])
def test_multipart_files_land_on_disk_whole(tmp_path, size):
    data = bytes(range(256)) * (size // 256) + b"\x00" * (size % 256)
    req = requests.Request("POST", "https://x/", files={"certificate_file": ("a.p12", data)},
                           data={"csrf_token": "t", "certificate_password": "p\u00e9"}).prepare()
    fields, uploads = read_form(io.BytesIO(req.body), len(req.body), req.headers["Content-Type"],
                                tmp_path)
    assert fields == {"csrf_token": "t", "certificate_password": "p\u00e9"}
    assert uploads["certificate_file"].path.read_bytes() == data


def test_a_multipart_body_cut_short_is_refused_and_leaves_no_file(tmp_path):
    req = requests.Request("POST", "https://x/", files={"f": ("a", b"y" * 500_000)}).prepare()
    with pytest.raises(BadUpload):
        read_form(io.BytesIO(req.body[:-1000]), len(req.body), req.headers["Content-Type"],
                  tmp_path)
    assert list(tmp_path.iterdir()) == []
