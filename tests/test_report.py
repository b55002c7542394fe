"""Reports: one per run, never overwritten, never a secret, never refused
because the factory password (a public word) appears in them."""
from __future__ import annotations

import json

from hwprobe.procedure.report import build, write_report


def _report(**kw):
    return build(None, address="169.254.1.3", fingerprint=None, sheet="site.toml",
                 driver="web", **kw)


def test_two_reports_in_the_same_second_get_two_names(tmp_path):
    a = write_report(_report(stopped="connecting", error="x"), directory=tmp_path)
    b = write_report(_report(stopped="connecting", error="y"), directory=tmp_path)
    assert a[0] != b[0] and a[1] != b[1]
    assert "y" in b[0].read_text() and ": x" in a[0].read_text()
    assert len(list(tmp_path.glob("*.md"))) == 2


def test_a_secret_that_slipped_in_is_masked_and_the_report_still_written(tmp_path):
    secret = 'Smtp-Relay#Secret-93"\\'
    md, js = write_report(_report(stopped="applying",
                                  error=f"the appliance said: bad password {secret}"),
                          secrets=[secret, "password"], directory=tmp_path)
    for path in (md, js):
        assert secret not in path.read_text()
        assert "********" in path.read_text()
    assert json.loads(js.read_text())["error"].endswith("********")
    assert "bad password" in md.read_text()            # the public word stays


def test_a_run_that_ended_before_its_plan_says_where_it_stopped(tmp_path):
    md, js = write_report(_report(stopped="logging in", error="refused"), directory=tmp_path)
    assert "STOPPED while logging in: refused" in md.read_text()
    data = json.loads(js.read_text())
    assert data["ok"] is False and data["stopped"] == "logging in" and data["steps"] == []
