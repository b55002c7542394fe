"""Each help page says what a user needs, in words a technician reads, not a
source path: the demo's flags, readiness, survey, verify and failover."""
from __future__ import annotations

import re

import pytest

from bringup.cli import main


def help_of(capsys, *command: str) -> str:
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    return " ".join(capsys.readouterr().out.split())


def option_help(text: str, option: str) -> str:
    """What the help page's options list says after ``option`` (up to the next option)."""
    text = text.split("options:", 1)[-1]
    found = re.search(re.escape(option) + r"(?: \{[^}]*\}| [A-Z.]+)? (.*?)(?= --?[a-z]|$)", text)
    return found.group(1) if found else ""


def test_demo_help_explains_every_option(capsys):
    text = help_of(capsys, "demo")
    assert "practises moving the cable" in option_help(text, "--answers-on")
    assert "cable is in at the start" in option_help(text, "--plug")
    assert "verify" in option_help(text, "--production")
    assert "state directory of its own" in text and "factory-fresh" in text


def test_readiness_help_says_what_it_checks(capsys):
    text = help_of(capsys, "readiness")
    assert "settings sheet complete" in text and "exit status" in text
    assert option_help(text, "--sheet") and option_help(text, "--json")


def test_survey_help_points_to_no_source_path(capsys):
    text = help_of(capsys, "survey")
    assert not re.search(r"\w+/\w+\.(toml|py)", text), text
    assert "BRINGUP_PASSWORD" in text


def test_verify_help_names_the_password_variable(capsys):
    text = help_of(capsys, "verify")
    assert "BRINGUP_PASSWORD" in text and "exits 2" in text


def test_failover_help_says_status_needs_the_api_client_too(capsys):
    text = help_of(capsys, "failover")
    assert "Both status and promote log in with an API client" in text
    assert "BRINGUP_API_CLIENT_ID" in text
