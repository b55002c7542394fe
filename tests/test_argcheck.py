"""Arguments and the state directory are checked before anything is touched."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import require_lab

SHEET = str(Path(__file__).resolve().parent.parent / "assets" / "example-sheet.toml")


def bringup(*args, env=None):
    return subprocess.run([sys.executable, "-m", "bringup", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("address", ["127.0.0.1", "224.0.0.1", "0.0.0.0", "169.254.1.0",
                                     "169.254.1.255", "255.255.255.255", "not-an-address"])
def test_laptop_address_that_a_port_cannot_hold_is_refused(address):
    run = bringup("probe", "--iface", "lo", "--laptop-address", address)
    assert run.returncode == 2 and "--laptop-address" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("name", ["", "no-such-port0", "../lo"])
def test_iface_that_names_no_port_is_refused(name):
    run = bringup("probe", "--iface", name)
    assert run.returncode == 2 and "--iface" in run.stderr and "Traceback" not in run.stderr


def test_state_dir_that_is_a_file_exits_3_before_anything(tmp_path):
    spot = tmp_path / "file"
    spot.write_text("x")
    run = bringup("apply", "--sheet", SHEET, "--address", "169.254.1.3", "--dry-run",
                  env={"BRINGUP_STATE_DIR": str(spot)})
    assert run.returncode == 3, run.stderr
    assert f"the state directory {spot} is a file" in run.stderr and "Traceback" not in run.stderr


def test_state_dir_that_cannot_be_written_exits_3(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    # a read-only bind mount would need a mount namespace; a 0500 directory is
    # read-only for everyone but root, so run the check as nobody when root
    ro.chmod(0o500)
    run = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
         sys.executable, "-c", "from hwprobe.procedure import argcheck; from pathlib import Path; import sys\n"
         "try: argcheck.check_state_dir(Path(sys.argv[1]))\n"
         "except argcheck.StateDirUnusable as e: print(e); sys.exit(e.exit_status)", str(ro / "s")]
        if os.geteuid() == 0 else
        [sys.executable, "-c", "from hwprobe.procedure import argcheck; from pathlib import Path; import sys\n"
         "try: argcheck.check_state_dir(Path(sys.argv[1]))\n"
         "except argcheck.StateDirUnusable as e: print(e); sys.exit(e.exit_status)", str(ro / "s")],
        capture_output=True, text=True, timeout=60, cwd="/")
    assert run.returncode == 3, run.stdout + run.stderr
    assert "cannot create the state directory" in run.stdout


def test_capture_out_on_a_read_only_file_system_is_refused_before_anything_is_read(tmp_path):
    """A read-only tmpfs in a private mount namespace, and an empty network
    namespace: had bringup tried the appliance first, it would end with
    "did not answer" (exit 1), not the --out refusal (exit 2)."""
    require_lab()                    # root, for the namespaces
    d = tmp_path / "ro"
    d.mkdir()
    script = ('mount -t tmpfs tmpfs "$D" && mount -o remount,ro "$D" && exec "$PY" -m bringup '
              'capture --address 192.0.2.1 --out "$D/site.toml"')
    run = subprocess.run(["unshare", "-m", "-n", "--propagation", "private", "sh", "-c", script],
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "D": str(d), "PY": sys.executable,
                              "BRINGUP_STATE_DIR": str(tmp_path / "state")})
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"--out {d}/site.toml: cannot write in {d} (Read-only file system)" in run.stderr
    assert "nothing was read" in run.stderr and "Traceback" not in run.stderr
