"""The runbook's paths say, in bringup's own words, what the vendor's procedure
says, and cite it; bringup ships none of the procedure's sentences.

The procedure ("BeyondTrust Appliance B Series Recovery") is read at test time
from beside the repository, ``../shared/procedure/*.txt`` (where every clone
and CI has it); under BRINGUP_REQUIRE_LAB=1 a missing file fails the checks
that need it. Every item of ``runbook.toml`` cites a place of the section it
names ("step 2.1", "list 2, step 3", "bullet 1", "paragraph 4"), and shares
its key words (ANCHORS below) with that place; every step of the procedure is
in some path; each path prints its steps in the procedure's order; and no run
of ten words of the procedure is in any file that ships.
The triage (``bringup runbook`` with no path) leads to the procedure's order of
paths and writes its answers on the incident timeline.
"""
from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hwprobe.runbook import checklists as runbook
from bringup.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "assets" / "example-sheet.toml"
SHARED = ROOT.parent / "shared" / "procedure"     # beside the repository, never an absolute path
REQUIRE = os.environ.get("BRINGUP_REQUIRE_LAB") == "1"
SHIPPED = ("bringup", "hwprobe", "tui", "simulator", "assets", "docs", "README.md")
FAILOVER, VIRTUAL, HARDWARE, HOSTED, RMA, INSTALL, SAAS = runbook.PROCEDURE["sections"]


def squash(text: str) -> str:
    return " ".join(text.split())


def printed(capsys, *argv: str) -> tuple[int, str]:
    """Run ``bringup ARGV`` (stdin not a terminal); exit status and what it printed."""
    try:
        code = main(list(argv))
    except SystemExit as exc:           # argparse refusing an option
        code = exc.code
    out = capsys.readouterr()
    return code, out.out + out.err


def in_order(text: str, expected: list[str]) -> None:
    """Each of ``expected`` appears in ``text`` (whitespace squashed), each after the last."""
    text, at = squash(text), 0
    for words in expected:
        found = text.find(squash(words), at)
        assert found >= 0, f"{words!r} not found after position {at} in:\n{text[at:at + 400]}"
        at = found + len(squash(words))


# --- the vendor's procedure, read from beside the repository ------------------------------

def procedure_lines() -> list[str]:
    """The procedure's lines (index 0 is line 1). Missing: a failure under
    BRINGUP_REQUIRE_LAB=1 (CI and `make test` have it), else a skip."""
    found = sorted(SHARED.glob("*.txt"))
    if not found:
        why = f"the vendor's procedure is not at {SHARED}/*.txt (beside the repository)"
        if REQUIRE:
            pytest.fail(why + " (BRINGUP_REQUIRE_LAB=1)")
        pytest.skip(why)
    return found[0].read_text(encoding="utf-8").splitlines()


def places(lines: list[str]) -> dict[tuple[str, str], tuple[int, str]]:
    """Every place of the procedure a runbook item can cite, as
    (section, place) -> (line number, text): in each section its paragraphs
    of prose ("paragraph N"), bullets ("bullet N") and numbered steps ("step
    N", "step N.M" nested; "list L, step N" in a section with two lists). The
    opening paragraph, before the first heading, is under the title."""
    sections = runbook.PROCEDURE["sections"]
    lists: dict[str, int] = {}
    section, in_list = None, False
    for text in lines:
        if text.strip() in sections:
            section, in_list = text.strip(), False
            lists[section] = 0
        elif section and re.match(r"\s+\d+\.\s", text):
            lists[section] += not in_list
            in_list = True
        elif text.strip():
            in_list = False
    out = {}
    section = runbook.PROCEDURE["title"]
    counts = {"paragraph": 0, "bullet": 0, "list": 0}
    in_list, top = False, ""
    for n, text in enumerate(lines, 1):
        words = text.strip()
        if n == 1 or not words:
            continue
        if words in sections:
            section, in_list = words, False
            counts = {"paragraph": 0, "bullet": 0, "list": 0}
            continue
        numbered = re.match(r"(\s+)(\d+)\.\s", text)
        if numbered:
            if not in_list:
                counts["list"] += 1
                in_list = True
            if len(numbered.group(1)) <= 2:
                top = step = numbered.group(2)
            else:
                step = f"{top}.{numbered.group(2)}"
            which = f"list {counts['list']}, " if lists.get(section, 0) > 1 else ""
            out[(section, f"{which}step {step}")] = (n, words)
            continue
        in_list = False
        kind = "bullet" if words.startswith("\u2022") else "paragraph"
        counts[kind] += 1
        out[(section, f"{kind} {counts[kind]}")] = (n, words)
    return out


@pytest.fixture(scope="module")
def procedure() -> dict[tuple[str, str], tuple[int, str]]:
    lines = procedure_lines()
    assert lines[0] == runbook.PROCEDURE["title"]
    for heading in runbook.PROCEDURE["sections"]:
        assert heading in [line.strip() for line in lines], heading
    return places(lines)


# --- every item cites its place, in its own words ---------------------------------------

def all_items():
    for key, path in runbook.PATHS.items():
        for n, step in enumerate(path["steps"], 1):
            yield key, n, step


# Per item, words it shares with the place it cites: the technician's terms,
# the interface's names and the facts; a wrong citation loses them.
ANCHORS = {
    ("hardware", 1): ["rack", "power"], ("hardware", 2): ["nic1", "power"],
    ("hardware", 3): ["gateway", "dns"], ("hardware", 4): ["boot", "browser"],
    ("hardware", 5): [".2", ".3", ".4", "other nic"], ("hardware", 6): ["admin", "new password"],
    ("hardware", 7): ["lost"],
    ("hardware", 8): ["networking > ip configuration", "add new ip", "global configuration"],
    ("hardware", 9): ["dns", "ntp", "syslog", "smtp"], ("hardware", 10): ["certificates", "/login"],
    ("failover", 1): ["shared ip", "dns swing", "nat swing", "a-record", "nat rule"],
    ("failover", 2): ["enable automatic failover", "network connectivity test ips",
                      "primary site instance timeout"],
    ("failover", 3): ["become primary", "management > failover", "set_failover_role"],
    ("failover", 4): ["clients", "failed"],
    ("cold_spare", 1): ["settings and data", "backup"], ("cold_spare", 2): ["dns", "nat swing"],
    ("cold_spare", 3): ["local network"], ("cold_spare", 4): ["switch", "reboot"],
    ("virtual", 1): ["vmware vcenter 5.0+", "hyper-v 2012 r2"],
    ("virtual", 2): ["snapshot", "checkpoint", "support"],
    ("virtual", 3): ["recent snapshot or checkpoint"],
    ("virtual", 4): ["deployment file", "authorized"], ("virtual", 5): ["hyper-v manager", "vmware"],
    ("virtual", 6): ["ova", "exe"], ("virtual", 7): ["console"],
    ("virtual", 8): ["gateway", "network administrator"], ("virtual", 9): ["/appliance", "update"],
    ("rma", 1): ["backup or spare"], ("rma", 2): ["support", "repair"],
    ("rma", 3): ["temporary", "hosted"],
    ("rma", 4): ["ps/2 keyboard", "vga monitor", "torx 8 or 10", "kvm switch"],
    ("rma", 5): ["tcp 443"], ("rma", 6): ["rma process"], ("rma", 7): ["fru", "b300 and b400"],
    ("rma", 8): ["serial number", "vat", "phone"], ("rma", 9): ["up to four weeks"],
    ("rma", 10): ["consent", "vat", "ireland"], ("rma", 11): ["packing slip", "tracking"],
    ("rma", 12): ["dhl", "weee", "return shipping label"], ("rma", 13): ["replacement", "rma"],
    ("rma", 14): ["two weeks", "list price"],
    ("hosted", 1): ["jump clients", "jumpoints", "representative consoles"],
    ("hosted", 2): ["data centers", "internet"],
    ("hosted", 3): ["active directory", "radius", "kerberos"],
    ("hosted", 4): ["certificates", "namespace"], ("hosted", 5): ["technical support"],
    ("hosted", 6): ["wait"], ("hosted", 7): ["site"],
    ("hosted", 8): ["management > software management"],
    ("hosted", 9): ["restore settings", "backup"], ("hosted", 10): ["backup", "password"],
    ("hosted", 11): ["upload backup"],
    ("saas", 1): ["starter service", "cloud appliance", "single-tenant"],
    ("saas", 2): ["/login", "restart"], ("saas", 3): ["cloud appliance", "/appliance",
                                                       "errors, warnings"],
    ("saas", 4): ["remote access product"], ("saas", 5): ["30 minutes", "business hours"],
}


def test_every_item_has_its_anchor_words():
    assert set(ANCHORS) == {(key, n) for key, n, _ in all_items()}


@pytest.mark.parametrize("key,n,step", list(all_items()),
                         ids=[f"{k}-{n}" for k, n, _ in all_items()])
def test_each_step_cites_a_place_of_its_section_and_says_what_it_says(procedure, key, n, step):
    cited = [step["ref"], *step.get("covers", [])]
    for place in cited:
        assert (step["section"], place) in procedure, f"{key} step {n}: no {place} under " \
                                                      f"{step['section']!r}"
    theirs = " ".join(procedure[(step["section"], place)][1] for place in cited).lower()
    ours = (step["text"] + " " + step.get("help", "")).lower()
    for word in ANCHORS[(key, n)]:
        assert word in ours and word in theirs, (key, n, word, theirs[:200])
    assert step["who"] in ("tech", "tool", "note")
    assert "{" not in step["text"], "sheet values belong in bringup's help, not the step"
    assert step.get("when") in (None, "snapshot", "cloud")
    assert not {"quote", "line"} & set(step), "the runbook cites; it does not quote"


@pytest.mark.parametrize("key", runbook.PATH_ORDER)
def test_each_paths_steps_are_in_the_procedures_order(procedure, key):
    lines = [procedure[(s["section"], s["ref"])][0] for s in runbook.PATHS[key]["steps"]]
    assert lines == sorted(lines)


def procedure_steps(procedure) -> list[tuple[str, str]]:
    """The places of the procedure that are steps: every numbered item, the RMA's
    list of what Support needs, and the instructions written as prose."""
    numbered = [place for place in procedure if " step " in f" {place[1]}"]
    bullets = [(RMA, f"bullet {n}") for n in range(1, 5)]    # what Support needs
    prose = [(FAILOVER, "paragraph 4"),          # cold spare: restore, redirect, LAN, switch
             *[(VIRTUAL, f"paragraph {n}") for n in (1, 2, 3, 4, 6)],  # platforms, snapshots,
             (HARDWARE, "paragraph 1"),          # restore service, remote repair, hosted
             (HOSTED, "paragraph 1"), (HOSTED, "paragraph 2"),        # its limitations
             *[(RMA, f"paragraph {n}") for n in (1, 2, 3, 4, 5)],      # on site, FRU, VAT...
             (INSTALL, "paragraph 4"),           # the rest by hand, then /login
             (SAAS, "paragraph 1")]              # Starter Service or Cloud Appliance
    return sorted(set(numbered + bullets + prose), key=lambda place: procedure[place][0])


def test_every_step_of_the_procedure_is_in_some_path(procedure):
    covered = set()
    for _, _, step in all_items():
        covered.update((step["section"], place) for place in [step["ref"],
                                                              *step.get("covers", [])])
    steps = procedure_steps(procedure)
    missing = [f"{s}, {p}: {procedure[(s, p)][1][:70]}" for s, p in steps if (s, p) not in covered]
    assert not missing, "procedure steps no path covers:\n" + "\n".join(missing)
    assert len(steps) > 40      # the numbered items were found at all


def test_nothing_that_ships_repeats_ten_words_of_the_procedure(procedure):
    """bringup's words are its own: no run of ten words of the vendor's
    procedure in any file that ships (the same count the before-stop hook makes)."""
    words = lambda text: re.findall(r"[a-z0-9]+", text.lower())
    seed = words("\n".join(procedure_lines()))
    runs = {tuple(seed[i:i + 10]) for i in range(len(seed) - 9)}
    files = subprocess.run(["git", "ls-files", *SHIPPED], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    assert len(files) > 100
    copied = {}
    for name in files:
        try:
            found = words((ROOT / name).read_text(errors="replace"))
        except OSError:
            continue
        hits = [" ".join(found[i:i + 10]) for i in range(len(found) - 9)
                if tuple(found[i:i + 10]) in runs]
        if hits:
            copied[name] = hits[:3]
    assert not copied, copied


# --- each path, in the procedure's order, in bringup's words ----------------------------

@pytest.mark.parametrize("key", runbook.PATH_ORDER)
def test_runbook_prints_each_paths_steps_in_the_procedures_order(key, capsys):
    code, text = printed(capsys, "runbook", key)
    assert code == 0
    steps = runbook.PATHS[key]["steps"]
    in_order(text, [s["text"] for s in steps])
    in_order(text, [f"(procedure: {s['section']}, {s['ref']})" for s in steps])


def test_paths_say_nothing_the_procedure_does_not(capsys):
    everything = ""
    for key in runbook.PATH_ORDER:
        everything += printed(capsys, "runbook", key)[1]
    for gone in ("status page", "Take a snapshot or checkpoint first",
                 "take a backup from the hosted site and restore it", "ARP cache"):
        assert gone not in everything


def test_bringups_own_help_is_marked_and_filled_from_the_sheet(capsys, tmp_path):
    sheet = tmp_path / "s.toml"
    sheet.write_text(EXAMPLE.read_text() + '\n[failover]\nmethod = "dns"\n'
                     'peer_address = "198.51.100.21"\n'
                     '\n[backup]\nnote = "site vault, entry B Series backup"\n')
    text = squash(printed(capsys, "runbook", "virtual", "--sheet", str(sheet))[1])
    assert ("bringup: from the sheet: address 198.51.100.20, netmask 255.255.255.0, "
            "gateway 198.51.100.1") in text
    text = squash(printed(capsys, "runbook", "failover", "--sheet", str(sheet))[1])
    assert "bringup: this site (sheet): DNS swing" in text and "(198.51.100.21)" in text
    text = squash(printed(capsys, "runbook", "hosted", "--sheet", str(sheet))[1])
    in_order(text, ["Type the backup's password, if it has one.",
                    "bringup: the sheet's note on the backup password: site vault, entry "
                    "B Series backup", "Press Upload Backup."])
    text = squash(printed(capsys, "runbook", "hosted", "--sheet", str(EXAMPLE))[1])
    assert "bringup: the sheet records no note on the backup password ([backup] note)" in text
    text = squash(printed(capsys, "runbook", "failover")[1])
    assert "(procedure: Failover and Spare B Series Appliances, step 2.2)" in text


def test_triage_answers_leave_out_the_steps_that_do_not_apply(capsys):
    starter = squash(printed(capsys, "runbook", "saas", "--failed", "saas")[1])
    assert "not for this incident: Cloud Appliance: sign in to its /appliance" in starter
    cloud = squash(printed(capsys, "runbook", "saas", "--failed", "cloud")[1])
    assert "not for this incident" not in cloud
    in_order(cloud, ["try restarting it", "Cloud Appliance: sign in to its /appliance",
                     "find a way around it"])
    virtual = squash(printed(capsys, "runbook", "virtual", "--snapshot", "no")[1])
    assert "not for this incident: A recent snapshot or checkpoint?" in virtual


# --- triage, headless ------------------------------------------------------------------

TRIAGES = [
    (["--failed", "hardware", "--failover", "yes", "--spare", "no", "--contract", "yes"],
     ["failover", "rma", "hardware"]),
    (["--failed", "hardware", "--failover", "no", "--spare", "yes", "--contract", "yes"],
     ["cold_spare", "rma", "hardware"]),
    (["--failed", "hardware", "--failover", "no", "--spare", "no", "--contract", "yes"],
     ["rma", "hosted", "hardware"]),
    (["--failed", "virtual", "--failover", "no", "--spare", "no", "--snapshot", "yes",
      "--contract", "yes"], ["virtual"]),
    (["--failed", "virtual", "--failover", "yes", "--spare", "no", "--snapshot", "no",
      "--contract", "no"], ["failover", "virtual"]),
    (["--failed", "hosted", "--contract", "yes"], ["saas"]),
    (["--failed", "saas", "--contract", "yes"], ["saas"]),
    (["--failed", "cloud", "--contract", "yes"], ["saas"]),
]


@pytest.mark.parametrize("argv,order", TRIAGES, ids=[a[1] + "-" + "-".join(o) for a, o in TRIAGES])
def test_triage_prints_the_procedures_order_and_writes_the_incident_timeline(
        argv, order, capsys, state_dir):
    code, text = printed(capsys, "runbook", *argv)
    assert code == 0
    in_order(text, [f"bringup runbook {key})" for key in order])
    shown = re.findall(r"\(bringup runbook (\w+)\)", text)
    assert shown == order
    timeline = json.loads(next((state_dir / "incidents").glob("incident-*.json")).read_text())
    assert timeline[-2]["text"].startswith(f"Triage: failed: {runbook.FAILED[argv[1]]}")
    assert timeline[-1]["text"] == "Triage: the procedure's order: " + ", ".join(
        f"{n}. {runbook.PATHS[k]['title']}" for n, k in enumerate(order, 1))


def test_hardware_without_partner_or_spare_says_the_hosted_site_runs_while_hardware_ships(
        capsys, state_dir):
    _, text = printed(capsys, "runbook", "--failed", "hardware", "--failover", "no",
                      "--spare", "no", "--contract", "no")
    in_order(text, ["restore the service first, then repair with Support or an RMA",
                    "a temporary hosted site until the new hardware arrives",
                    "the replacement's settings, once it has arrived",
                    "the procedure has new hardware shipped under the maintenance contract"])
    # each reason cites where the procedure says so, naming the document in a note
    assert "(procedure: Hardware B Series Appliances, paragraph 1)" in text
    assert ("(BeyondTrust Appliance B Series Recovery: Hardware B Series Appliances, "
            "paragraph 1)") in squash(text)


def test_triage_with_answers_missing_is_bad_input_and_writes_nothing(capsys, state_dir):
    code, text = printed(capsys, "runbook", "--failed", "virtual", "--failover", "no")
    assert code == 2
    assert "runbook --failed virtual: also answer --spare yes|no, --snapshot yes|no, " \
           "--contract yes|no" in text
    assert "Traceback" not in text
    assert not (state_dir / "incidents").exists()
    code, text = printed(capsys, "runbook", "--failed", "laptop")
    assert code == 2 and "invalid choice: 'laptop'" in text


def test_runbook_without_a_terminal_lists_the_paths_and_how_to_triage(capsys):
    code, text = printed(capsys, "runbook")
    assert code == 0
    assert "failover    Failover pair: the primary is down" in text
    assert "bringup runbook --failed hardware|virtual|hosted|saas|cloud" in text


def test_triage_on_a_terminal_asks_each_question(state_dir, tmp_path):
    """A real pty: `bringup runbook` asks what failed and what the site has."""
    main_fd, child_fd = pty.openpty()
    env = {**os.environ, "BRINGUP_STATE_DIR": str(state_dir), "TERM": "dumb"}
    proc = subprocess.Popen([sys.executable, "-m", "bringup", "runbook"], stdin=child_fd,
                            stdout=child_fd, stderr=child_fd, env=env, cwd=ROOT)
    os.close(child_fd)
    seen = b""

    def until(words: bytes) -> None:
        nonlocal seen
        deadline = time.monotonic() + 30
        while words not in seen:
            assert time.monotonic() < deadline, f"waited for {words!r}; saw {seen[-400:]!r}"
            if select.select([main_fd], [], [], 0.5)[0]:
                try:
                    seen += os.read(main_fd, 4096)
                except OSError:
                    break

    try:
        until(b"number 1-5: ")
        os.write(main_fd, b"1\n")
        until(b"failover partner (a backup appliance)? [y/n] ")
        os.write(main_fd, b"maybe\n")
        until(b"answer y or n")
        os.write(main_fd, b"n\n")
        until(b"cold spare appliance? [y/n] ")
        os.write(main_fd, b"y\n")
        until(b"maintenance contract? [y/n] ")
        os.write(main_fd, b"y\n")
        until(b"On the incident timeline")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(main_fd)
    text = seen.decode(errors="replace")
    assert re.findall(r"\(bringup runbook (\w+)\)", text) == ["cold_spare", "rma", "hardware"]


def test_the_recovery_paths_finish_the_site_with_the_same_code_as_the_replacement(capsys):
    """Issue 23: the cold spare and the virtual appliance are finished from the
    kit as the replacement is (apply --kit, the console's Site step); the
    hosted site gets the /login backup alone (restore-login); the hardware
    path's last step is bringup's with a kit."""
    text = squash(printed(capsys, "runbook", "cold_spare")[1])
    in_order(text, ["Load the spare with the settings and data from the backups.",
                    "bringup apply --kit DIR", "the certificate, the site software, the "
                    "/login backup"])
    text = squash(printed(capsys, "runbook", "virtual")[1])
    in_order(text, ["sign in to /appliance, install the update, then put the settings back",
                    "bringup apply --kit DIR", "the /login backup"])
    text = squash(printed(capsys, "runbook", "hosted")[1])
    in_order(text, ["Under Restore Settings, pick the software backup file.",
                    "bringup restore-login --address ADDRESS --kit DIR", "Press Upload Backup."])
    text = squash(printed(capsys, "runbook", "hardware")[1])
    in_order(text, ["bring back the site's certificates and its /login administration",
                    "the console's Site step or `bringup apply --kit DIR` finishes the site"])
    # the commands the runbook names are the ones bringup has
    for words in (["apply", "--help"], ["restore-login", "--help"]):
        code, help_text = printed(capsys, *words)
        assert code == 0 and ("--kit DIR" in help_text)
