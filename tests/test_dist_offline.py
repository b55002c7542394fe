"""dist/bringup, the one-file bundle, on a laptop with no network, no pip, no
ensurepip and no compiler: `--version`, a lab with its production network made
from the bundle, a probe, a headless apply and a verify, all from the file. `make test` builds the bundle first.

"No network" is a fresh network namespace (`unshare -n`, only a down loopback)
or the lab's laptop namespace (only the cable to the simulated appliance).
"No pip, no venv's pip, no compiler" is a private mount namespace in which
empty directories and /dev/null cover them, so the host stays as it is. Each
run starts with an empty PEX_ROOT, so the first start's unpacking happens offline too.
"""
from __future__ import annotations

import json
import os
import glob
import subprocess
import sys
import uuid
from importlib.metadata import version
from pathlib import Path

import pytest

from conftest import require_lab

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "dist" / "bringup"
EXAMPLE = ROOT / "assets" / "example-sheet.toml"
NEW_PASSWORD = "Bring-Up-2am!x7"
SMTP_PASSWORD = "Smtp-Relay#Secret-93"
ADDR = "169.254.1.3"

# what a stock laptop lacks: covered inside the private mount namespace
# (Debian's python3-pip, python3-venv: all of dist-packages, and ensurepip)
HIDDEN_DIRS = ["/usr/lib/python3/dist-packages", "/usr/local/lib/python3.11/dist-packages"]
HIDDEN_PACKAGES = ["/usr/lib/python3.11/ensurepip"]
HIDDEN_FILES = ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/c++", "/usr/bin/pip", "/usr/bin/pip3",
                "/usr/bin/x86_64-linux-gnu-gcc-12", "/usr/bin/aarch64-linux-gnu-gcc-12"]


def _bundle() -> Path:
    require_lab()
    if not BUNDLE.exists():
        if os.environ.get("BRINGUP_REQUIRE_LAB") == "1":
            pytest.fail(f"{BUNDLE} is missing: build it with `make dist`")
        pytest.skip("no dist/bringup (make dist)")
    return BUNDLE


def _stock_laptop_script(argv: list[str]) -> str:
    """A shell line that covers pip, ensurepip and the compilers, then runs argv."""
    hide = [f"mount --bind \"$empty\" {d}" for d in HIDDEN_DIRS if os.path.isdir(d)]
    # an empty directory would still import as a namespace package: this one
    # fails the import as a missing module does
    hide += [f"mount --bind \"$gone\" {d}" for d in HIDDEN_PACKAGES if os.path.isdir(d)]
    hide += [f"mount --bind /dev/null {f}" for f in HIDDEN_FILES if os.path.exists(f)]
    quoted = " ".join("'" + a.replace("'", "'\\''") + "'" for a in argv)
    setup = ("empty=$(mktemp -d) && gone=$(mktemp -d) && echo 'raise ModuleNotFoundError"
             "(\"hidden: not on a stock laptop\")' > \"$gone/__init__.py\"")
    return " && ".join([setup, *hide, f"exec {quoted}"])


def offline(tmp_path, argv, *, netns: str | None = None, env_extra=None, timeout=240):
    """Run argv as on an offline stock laptop: a clean environment with only
    system directories on PATH (no project venv), an empty PEX_ROOT, cwd away
    from the repository; in a fresh network namespace, or in ``netns``."""
    pex_root = tmp_path / "pex-root"
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "HOME": str(home), "PEX_ROOT": str(pex_root), "LANG": "C.UTF-8",
           "BRINGUP_STATE_DIR": str(tmp_path / "state")}
    env.update(env_extra or {})
    inner = ["sh", "-c", _stock_laptop_script(argv)]
    if netns:
        cmd = ["unshare", "-m", "--propagation", "private", "ip", "netns", "exec", netns, *inner]
    else:
        cmd = ["unshare", "-n", "-m", "--propagation", "private", *inner]
    return subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def _pythons() -> list[str]:
    """The target interpreters this machine has: the system python3 always
    (the stock laptop's), 3.12 and 3.13 where installed (pyenv here)."""
    found = ["/usr/bin/python3"]
    for minor in ("3.12", "3.13"):
        candidates = [f"/usr/bin/python{minor}",
                      *sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{minor}*/bin/python{minor}")))]
        found += [c for c in candidates if os.access(c, os.X_OK)][:1]
    return found


def test_bundle_offline_version_names_the_package_version_python_and_textual(tmp_path):
    bundle = _bundle()
    for python in _pythons():
        here = tmp_path / Path(python).name        # a fresh PEX_ROOT per Python
        here.mkdir()
        r = offline(here, [python, str(bundle), "--version"])
        assert r.returncode == 0, f"{python}: {r.stderr[-2000:]}"
        first = r.stdout.splitlines()[0]
        assert first == f"bringup {version('bringup')}", (python, r.stdout)
        want = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                              capture_output=True, text=True).stdout.strip()
        assert f"Python {want}" in r.stdout, (python, r.stdout)
        assert f"textual {version('textual')}" in r.stdout, r.stdout


def test_bundle_offline_cannot_reach_anything(tmp_path):
    """The namespace really is offline: the only interface is a down loopback."""
    r = offline(tmp_path, ["ip", "-o", "link"])
    assert r.returncode == 0, r.stderr
    assert [line.split(":")[1].strip() for line in r.stdout.splitlines()] == ["lo"]
    r = offline(tmp_path, ["/usr/bin/python3", "-c", "import pip"])
    assert "No module named 'pip'" in r.stderr
    r = offline(tmp_path, ["/usr/bin/python3", "-c", "import ensurepip"])
    assert "ModuleNotFoundError" in r.stderr
    r = offline(tmp_path, ["sh", "-c", "cc --version"])
    assert r.returncode != 0


def test_bundle_makes_a_lab_with_production_probes_applies_and_verifies_offline(tmp_path):
    bundle = _bundle()
    from simulator import lab as labmod

    name = f"d{uuid.uuid4().hex[:6]}"
    try:
        # `ip netns add` works from an unshared network namespace; the lab is
        # created by the bundle's own simulator (as in training on the laptop),
        # with the production network the README shows: its e-mail relay runs
        # on the bundle's own aiosmtpd
        r = subprocess.run(["unshare", "-n", str(bundle), "lab", "up", "--name", name,
                            "--appliance-address", ADDR, "--production"],
                           env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                                "PEX_ROOT": str(tmp_path / "pex-root"),
                                "HOME": str(tmp_path),
                                "BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD},
                           cwd=tmp_path, capture_output=True, text=True, timeout=240,
                           stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr[-2000:]
        assert "production network" in r.stdout and "Traceback" not in r.stderr
        laptop = f"{name}-laptop"
        r = offline(tmp_path, [str(bundle), "probe", "--iface", "lan0", "--json"], netns=laptop)
        assert r.returncode == 0, r.stderr[-2000:]
        assert ADDR in r.stdout
        r = offline(tmp_path, [str(bundle), "apply", "--sheet", str(EXAMPLE), "--address", ADDR,
                               "--iface", "lan0", "--json"], netns=laptop,
                    env_extra={"BRINGUP_NEW_PASSWORD": NEW_PASSWORD,
                               "BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD})
        assert r.returncode == 0, r.stderr[-2000:] + r.stdout[-2000:]
        out = json.loads(r.stdout)
        assert out["ok"], out
        # the cables move: the laptop joins the production network, and the
        # appliance proves its services from there (the relay holds the mail)
        subprocess.run(["ip", "-n", laptop, "addr", "add", "198.51.100.250/24", "dev", "lan0"],
                       check=True)
        r = offline(tmp_path, [str(bundle), "verify", "--sheet", str(EXAMPLE), "--address",
                               "198.51.100.20", "--json"], netns=laptop,
                    env_extra={"BRINGUP_PASSWORD": NEW_PASSWORD})
        assert r.returncode == 0, r.stderr[-2000:] + r.stdout[-2000:]
        verified = json.loads(r.stdout)
        assert verified["ok"] and verified["run_report"], verified
        from simulator import production

        assert [m["rcpt_tos"] for m in production.received_mail(labmod.get(name))] == [
            ["noc@example.net"]]
        log = (tmp_path / "state" / "bringup.log").read_text()     # the run log, from the file
        assert "start: bringup apply" in log and "end: exit status 0" in log
        # the man page and completion the build wrote from the parser, shipped in the file
        r = offline(tmp_path, [str(bundle), "man"])
        assert r.returncode == 0 and ".SH EXIT STATUS" in r.stdout and ".B restore\\-link" in r.stdout
        r = offline(tmp_path, [str(bundle), "completion", "bash"])
        assert r.returncode == 0 and "complete -F _bringup bringup" in r.stdout
    finally:
        labmod.down(name)
