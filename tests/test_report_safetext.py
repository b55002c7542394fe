"""The Markdown report writes what came from outside (the appliance, an error
text) as data: no terminal control, no link, markup or table break; a MAC
with ``ab``/``cd`` octets stays exactly itself; the JSON keeps the real
string; a password with Markdown punctuation is masked as it reads there."""
from __future__ import annotations

import json
import re

from hwprobe.procedure.engine import VERIFIED, RunResult, Step
from hwprobe.procedure.report import build, write_report
from hwprobe.safetext import unsafe_in
from hwprobe.appliance.state import ApplianceState, NicInfo

SPOOF = "\x1b]0;owned\x07\x1b[2J\x1b]8;;https://203.0.113.66/\x1b\\[click](https://203.0.113.66/) **ok** | <b>x</b> \x9b31m"
SECRET = "p|a*ss[w]ord!"


def test_the_report_shows_appliance_text_as_data_and_keeps_the_real_string_in_json(tmp_path):
    state = ApplianceState(model="B400" + SPOOF, serial="SN" + SPOOF, software_version=SPOOF,
                           nics=[NicInfo("nic1", "02:b5:ab:cd:00:02", True)])
    step = Step(key="hostname", title="Host name" + SPOOF, page="Global" + SPOOF,
                area="hostname", before="old" + SPOOF, after="support.example.net",
                changed=True, status=VERIFIED)
    failed = Step(key="dns", title="DNS", page="Global", area="dns", before=[], after=[],
                  changed=True, status="failed",
                  message=f"the appliance said: {SPOOF} (password {SECRET})")
    run = RunResult(steps=[step, failed], extras=["route " + SPOOF], dry_run=False,
                    state_before=state, state_after=state, started=0.0, finished=1.0)
    rep = build(run, address="169.254.1.3", fingerprint=None, sheet="site.toml", driver="web",
                notes=["MAC 02:b5:ab:cd:00:02 answered", "the appliance said " + SPOOF],
                error="refused: " + SPOOF)
    md, js = write_report(rep, secrets=[SECRET], directory=tmp_path)
    text = md.read_text()
    assert not unsafe_in(text)
    # shown escaped, and Markdown-escaped once more: it reads \x1b]0;owned... rendered
    assert r"\\x1b\]0;owned\\x07\\x1b\[2J" in text
    assert "[click](" not in text and r"\[click\](" in text      # a link's text, not a link
    assert not re.search(r"(?<!\\)<b>", text) and "**ok**" not in text      # no HTML, no bold
    assert "MAC 02:b5:ab:cd:00:02 answered" in text
    # every table row keeps its seven cells: no pipe from outside ends one
    rows = [line for line in text.splitlines() if line.startswith("| [")]
    assert len(rows) == 2 and all(line.replace("\\|", "").count("|") == 8 for line in rows)
    assert SECRET not in text and "p\\|a\\*ss\\[w\\]ord!" not in text and "********" in text
    data = json.loads(js.read_text())
    assert data["appliance"]["model"] == "B400" + SPOOF      # JSON keeps the real string


def test_addresses_read_as_themselves_in_the_markdown_report_and_list_marks_are_escaped(
        tmp_path):
    """Read as plain text (a technician's pager, a ticket), an address is not
    ``169\\.254.1.3``; what would start a list or heading is still escaped."""
    rep = build(None, address="169.254.1.3", fingerprint=None, sheet="site.toml",
                driver="web", notes=["198.51.100.20 answered", "1. not a list", "- nor this",
                                     "## nor a heading"])
    text = write_report(rep, directory=tmp_path)[0].read_text()
    assert "- appliance: 169.254.1.3 via web" in text
    assert "- 198.51.100.20 answered" in text and "\\." not in text.replace("1\\. not", "")
    assert "- 1\\. not a list" in text and "- \\- nor this" in text
    assert "- \\## nor a heading" in text
