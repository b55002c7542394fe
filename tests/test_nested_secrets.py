"""Nested secrets (issue 26, item 7): two passwords where one contains the
other (at its start, in its middle, at its end) are masked whole wherever
bringup writes text: the one masking rule (hwprobe.redact), the run log,
the report (Markdown and JSON) and the console's transcript and pane.
Masked shortest first, the longer one would leak its tail ("***!x7")."""
from __future__ import annotations

import json

import pytest

from hwprobe import redact
from hwprobe.procedure.report import render

LONG = "Bring-Up-2am!x7"
NESTED = [("Bring-Up", LONG), ("2am", LONG), ("2am!x7", LONG)]     # start, middle, end


def _leaks(text: str, long: str, short: str) -> list[str]:
    """What of ``long`` is left in ``text`` when ``short`` was masked first:
    the parts of ``long`` around ``short`` (3 characters or more)."""
    return [part for part in long.split(short) if len(part) >= 3 and part in text]


@pytest.mark.parametrize("short, long", NESTED, ids=["start", "middle", "end"])
def test_the_masking_rule_masks_a_password_that_contains_another_whole(short, long):
    text = f"sent {long}; relay {short}; again {long}."
    for order in ([short, long], [long, short]):
        masked = redact.masked(text, order)
        assert masked == "sent ***; relay ***; again ***.", masked


@pytest.mark.parametrize("short, long", NESTED, ids=["start", "middle", "end"])
def test_the_report_masks_nested_secrets_whole_in_markdown_and_json(short, long):
    rep = {"bringup_report": 1, "written": "now", "headline": f"NOT READY ({long})",
           "result_lines": [f"NOT READY ({long})", f"NOT applied: E-mail ({short} refused)"],
           "appliance": {"address": "169.254.1.1", "model": "", "serial": "",
                         "software_version": "", "certificate_sha256": None, "cable_in": None},
           "sheet": None, "driver": "web", "dry_run": False, "ok": False, "stopped": None,
           "error": f"the appliance echoed {long} and {short}", "seconds": 0.0, "steps": [],
           "left_alone_on_appliance": [], "notes": [f"note {short}"], "next_steps": []}
    md, js = render(rep, [short, long])
    for text in (md, js, json.dumps(json.loads(js))):
        assert long not in text and short not in text
        assert not _leaks(text, long, short), _leaks(text, long, short)


@pytest.mark.parametrize("short, long", NESTED, ids=["start", "middle", "end"])
def test_the_run_log_masks_nested_secrets_whole(short, long, monkeypatch):
    monkeypatch.setattr(redact, "_known", set())
    redact.remember(short)
    redact.remember(long)
    masked = redact.mask(f"login with {long} then {short}")
    assert masked == "login with *** then ***", masked


@pytest.mark.parametrize("short, long", NESTED, ids=["start", "middle", "end"])
def test_the_console_transcript_masks_nested_secrets_whole(short, long, tmp_path):
    from hwprobe.appliance.console.channel import MASK, Channel

    channel = Channel.__new__(Channel)
    channel.secrets, channel.typed = set(), set()
    channel.hide(short)
    channel.hide(long)
    line = f"Password changed from {short} to {long}"
    assert channel.scrub(line) == f"Password changed from {MASK} to {MASK}"
    # an echo arriving a byte at a time holds back what could be a secret's start
    assert channel.held_back(f"New: {long[:-1]}") == len(long) - 1
