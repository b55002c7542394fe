"""Every file bringup writes is a regular file or nothing (issue 26, item 1):
the one writer (``hwprobe.fsutil.atomic_write``) never renames over a
device, a FIFO, a socket, a folder or a symbolic link, and an ``--out`` is
checked before the first packet (``check_output``/``check_output_folder``),
``--force`` or not. The special files are made in a private temporary
folder (a character device with mknod, as /dev/full is: never one of /dev).
The command-line walk (tests/test_exit_contract.py) runs the same refusals
through ``bringup capture`` and ``survey``."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from hwprobe.errors import BadInput
from hwprobe.fsutil import atomic_write, check_output, check_output_folder
from lab_helpers import SPECIAL_FILES, special_file


KINDS = SPECIAL_FILES
TESTS = {"character device": stat.S_ISCHR, "FIFO": stat.S_ISFIFO, "socket": stat.S_ISSOCK,
         "symbolic link": stat.S_ISLNK, "folder": stat.S_ISDIR}


@pytest.fixture(params=KINDS)
def special(request, tmp_path) -> tuple[str, Path]:
    """(its kind, the path): a special file where a sheet would be written."""
    kind = request.param
    if kind == "character device" and os.geteuid() != 0:
        pytest.skip("mknod of a character device needs root")
    target = tmp_path / "site.toml"
    special_file(kind, target)
    return kind, target


def test_atomic_write_never_replaces_a_special_file(tmp_path, special):
    kind, target = special
    with pytest.raises(BadInput, match=kind.split()[0]):
        atomic_write(target, "format = 1\n")
    assert TESTS[kind](os.lstat(target).st_mode), f"the {kind} was replaced"
    assert not (tmp_path / "elsewhere.toml").exists()      # a link is not followed either
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_an_out_path_that_is_not_a_regular_file_is_refused_force_or_not(special):
    kind, target = special
    for force in (False, True):
        with pytest.raises(BadInput) as caught:
            check_output(target, overwrite=force)
        words = str(caught.value)
        assert f"--out {target}: is a" in words and kind.split()[0] in words, words
    assert TESTS[kind](os.lstat(target).st_mode)


def test_a_regular_file_is_replaced_whole_and_only_with_force(tmp_path):
    target = tmp_path / "site.toml"
    target.write_text("old\n")
    with pytest.raises(BadInput, match="exists"):
        check_output(target)
    assert check_output(target, overwrite=True) == target
    atomic_write(target, "new\n")
    assert target.read_text() == "new\n" and stat.S_ISREG(os.lstat(target).st_mode)


def test_an_out_in_a_missing_folder_or_a_folder_that_takes_no_file_is_refused(tmp_path):
    with pytest.raises(BadInput, match="does not exist"):
        check_output(tmp_path / "nowhere" / "site.toml")
    with pytest.raises(BadInput, match="cannot write in it"):
        check_output_folder("/proc")                        # root cannot write there either
    with pytest.raises(BadInput, match="no such folder"):
        check_output_folder(tmp_path / "nowhere")
    assert check_output_folder(tmp_path) == tmp_path
    assert list(tmp_path.iterdir()) == []                   # the probe file is gone


def test_an_rma_request_never_replaces_a_symbolic_link(tmp_path):
    from hwprobe.runbook import rma

    req = rma.RmaRequest(contact_name="Dana Field", email="dana@example.net",
                         phone="+1 555 0100", shipping_address="1 Rack Row, Springfield",
                         country="US", serial="B400-0012345", model="B400", failed_part="disk")
    assert rma.check(req) == []
    (tmp_path / f"rma-{req.serial}.md").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(BadInput, match="symbolic link"):
        rma.write_request(req, tmp_path)
    assert not (tmp_path / "elsewhere").exists()


def test_bytes_that_were_not_utf8_are_written_as_they_came(tmp_path):
    """Appliance text decoded with surrogateescape (a byte that was not
    UTF-8) does not stop a write: the byte is written back as it came."""
    text = b"host\xffname\n".decode("utf-8", "surrogateescape")
    atomic_write(tmp_path / "x.txt", text)
    assert (tmp_path / "x.txt").read_bytes() == b"host\xffname\n"


def test_a_capture_never_replaces_a_special_file_and_pcap_refuses_one_before_the_search(
        tmp_path, special):
    """``--pcap FILE`` (issue 24's capture for Support) is an output too: the
    argument check refuses a special file before the port is touched, and
    the capture's writer renames only onto a missing path or a regular file
    (its part file made new beside it, never through a name planted there)."""
    import argparse
    import time

    from hwprobe.port.listen import write_capture
    from hwprobe.procedure.argcheck import pcap_file

    kind, target = special
    with pytest.raises(argparse.ArgumentTypeError) as caught:
        pcap_file(str(target))
    assert kind.split()[0] in str(caught.value), str(caught.value)
    with pytest.raises(OSError, match="bringup writes only regular files"):
        write_capture(target, [(time.time(), b"\xff" * 6 + b"\x02" * 6 + b"\x08\x06" + b"\0" * 46)])
    assert TESTS[kind](os.lstat(target).st_mode), f"the {kind} was replaced"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
    # a regular file, or nothing, is written whole
    ok = tmp_path / "lan0.pcap"
    assert pcap_file(str(ok)) == str(ok.resolve())
    assert write_capture(ok, [(time.time(), b"\xff" * 60)]) == 1 and ok.stat().st_size > 24
