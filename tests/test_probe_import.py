"""scapy is loaded only when a probe needs it, and never reads the routing table."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def test_importing_probe_and_link_does_not_load_scapy():
    r = run("import sys; from hwprobe import probe, link, interfaces, journal;"
            "from bringup.commands import probe as c;"
            "sys.exit(1 if 'scapy' in sys.modules else 0)")
    assert r.returncode == 0, r.stderr


def test_scapy_loads_with_route_autoload_off():
    r = run("from hwprobe import probe; probe.preload();"
            "from scapy.config import conf;"
            "assert conf.route_autoload is False and conf.route6_autoload is False;"
            "assert conf.route.routes == [], conf.route.routes")
    assert r.returncode == 0, r.stderr
