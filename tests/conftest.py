"""Shared fixtures.

Lab tests need root and network namespaces. Outside CI they skip with a reason;
under BRINGUP_REQUIRE_LAB=1 (set by `make test`) a missing lab is a failure, so
CI can never pass by skipping them.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest

REQUIRE_LAB = os.environ.get("BRINGUP_REQUIRE_LAB") == "1"


def lab_unavailable_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root for network namespaces"
    if shutil.which("ip") is None:
        return "needs iproute2 (`ip`)"
    probe = f"bu-chk-{uuid.uuid4().hex[:6]}"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        return f"cannot create a network namespace: {r.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


_reason_cache: list[str | None] = []


def require_lab() -> None:
    """Skip (or, under BRINGUP_REQUIRE_LAB=1, fail) when no lab can be made."""
    if not _reason_cache:
        _reason_cache.append(lab_unavailable_reason())
    reason = _reason_cache[0]
    if reason is None:
        return
    if REQUIRE_LAB:
        pytest.fail(f"lab required (BRINGUP_REQUIRE_LAB=1) but {reason}")
    pytest.skip(reason)


def require_tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    if REQUIRE_LAB:
        pytest.fail(f"{name} required (BRINGUP_REQUIRE_LAB=1); apt-get install {package}")
    pytest.skip(f"needs {name} ({package})")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "lab" in item.keywords:
            item.fixturenames.insert(0, "_lab_required")
    # lab tests first: they are the long ones (they wait on namespaces and the
    # simulated appliance), so parallel workers (make test) share them out
    # early and the short tests fill in the gaps instead of one long lab test
    # running alone at the end. A stable sort: the order within each kind stays.
    items.sort(key=lambda item: "lab" not in item.keywords)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under BRINGUP_REQUIRE_LAB=1 a skipped test is a failed one, whoever
    skipped it (a skipif mark, a pytest.skip or importorskip in a helper): the
    suite cannot pass by not running something. Runs in every xdist worker."""
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_LAB and report.skipped and not hasattr(report, "wasxfail"):
        where, line, reason = report.longrepr if isinstance(report.longrepr, tuple) else (
            item.nodeid, 0, str(report.longrepr))
        report.outcome = "failed"
        report.longrepr = (f"skipped under BRINGUP_REQUIRE_LAB=1, which is a failure: {reason} "
                           f"({where}:{line})")


@pytest.fixture
def _lab_required():
    require_lab()


@pytest.fixture(autouse=True)
def _no_state_of_the_machine(tmp_path_factory):
    """No test reads or writes this machine's own bringup state
    (/var/lib/bringup): every test, and every bringup it starts, gets a
    folder of its own (``state_dir`` names one the test reads). Not through
    ``monkeypatch``: set up first, it would be undone last, after the labs'
    teardown, which needs whatever PATH a test changed put back."""
    before = os.environ.get("BRINGUP_STATE_DIR")
    os.environ["BRINGUP_STATE_DIR"] = str(tmp_path_factory.mktemp("state"))
    yield
    if before is None:
        os.environ.pop("BRINGUP_STATE_DIR", None)
    else:
        os.environ["BRINGUP_STATE_DIR"] = before


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    """A private bringup state directory (journals, reports, transcripts)."""
    d = tmp_path / "state"
    d.mkdir()
    monkeypatch.setenv("BRINGUP_STATE_DIR", str(d))
    return d


@pytest.fixture
def make_lab(request):
    """Factory: ``make_lab(**lab_up_kwargs)`` gives this test its own lab with a
    unique name, torn down afterwards even when the test fails."""
    require_lab()
    from simulator import lab as labmod

    made: list[str] = []

    def factory(**kwargs):
        name = kwargs.pop("name", None) or f"t{uuid.uuid4().hex[:6]}"
        made.append(name)
        return labmod.up(name=name, **kwargs)

    yield factory
    for name in made:
        labmod.down(name)


PAIR_CLIENT = ("drill", "Drill-Api-Secret-7")   # the pair's command-API client (a test secret)


@pytest.fixture
def pair(make_lab):
    """Two simulated appliances in production as a failover pair (198.51.100.20
    primary, .21 backup); the lab puts lan0 of the laptop namespace on their
    network."""
    return make_lab(pair=True, api_client=PAIR_CLIENT)


@pytest.fixture(scope="session")
def site_lab():
    """One appliance in production (`bringup lab up --site`, its secrets those
    of site_helpers.SITE_SECRETS in the environment), shared by the tests of
    the xdist group "site-lab" (their modules mark it, so one worker makes
    it once). A test that flips a fault switch clears it again."""
    require_lab()
    from simulator import lab as labmod
    from site_helpers import SITE_SECRETS, site_up

    name = f"s{uuid.uuid4().hex[:6]}"
    try:
        yield site_up(name, "--site", env=SITE_SECRETS)
    finally:
        labmod.down(name)


@pytest.fixture(scope="module")
def kit(site_lab, tmp_path_factory):
    """A recovery kit taken from the site lab (with its update file), one per
    test module, in a short folder of its own: pytest's base folder under
    xdist (/tmp/pytest-of-root/pytest-NNN/popen-gwN/...) is long enough to
    wrap the resume dialog's "recovery kit" line at 80 columns."""
    import tempfile
    from pathlib import Path

    from finish_helpers import take_kit

    out = Path(tempfile.mkdtemp(prefix="kit-", dir="/tmp")) / "kit"
    take_kit(site_lab, out, tmp_path_factory.mktemp("kit-state"))
    yield out
    shutil.rmtree(out.parent, ignore_errors=True)


@pytest.fixture
def lab(make_lab):
    """A default lab: appliance on 169.254.1.1, answering on NIC1, cable in NIC1."""
    return make_lab()
