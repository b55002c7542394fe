"""A generated corpus of mutated sheets: wrong types, newlines, odd digits,
invisible characters, deep nesting, huge files, a FIFO, a device, a directory.

Every case must end as ``SheetInvalid`` (exit status 2) whose every line starts
with ``FILE:LINE:`` (``FILE:`` alone for a file that is not a sheet at all),
with no raw control character in it. Loading a sheet contacts nothing."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import bringup_assets
from hwprobe.errors import SheetInvalid
from hwprobe.safetext import unsafe_in
from hwprobe.settings.sheet import load_sheet

EXAMPLE = Path(str(bringup_assets.path("example-sheet.toml"))).read_text()
_KEY = re.compile(r"^(?P<key>[a-z_]+) = (?P<value>.*?)(?P<comment>\s+#.*)?$", re.M)
ARABIC = str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")
SUPER = str.maketrans("0123456789", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def _keys():
    return [(m.start("value"), m.end("value"), m.group("key"), m.group("value"))
            for m in _KEY.finditer(EXAMPLE) if m.group("key") != "format"]


def _replace(n: int, new: str) -> str:
    start, end, _, _ = _keys()[n]
    return EXAMPLE[:start] + new + EXAMPLE[end:]


def _cases() -> dict[str, str]:
    cases: dict[str, str] = {}
    for n, (_, _, key, value) in enumerate(_keys()):
        if value.startswith('"'):
            cases[f"{key}#{n}-as-number"] = _replace(n, "1")
            cases[f"{key}#{n}-trailing-newline"] = _replace(n, value[:-1] + '\\n"')
            if key not in ("model", "serial", "username"):
                cases[f"{key}#{n}-zero-width"] = _replace(n, value[:2] + "\u200b" + value[2:])
        elif value.startswith("["):
            cases[f"{key}#{n}-as-string"] = _replace(n, '"x"') if key != "admin_contacts" \
                else _replace(n, "[1]")
            cases[f"{key}#{n}-newline-in-item"] = _replace(n, value.replace('"]', '\\n"]', 1))
        else:
            cases[f"{key}#{n}-as-list"] = _replace(n, "[1]")
        if any(c.isdigit() for c in value) and key not in ("model", "serial"):
            if not value.startswith('"') or "." in value or "/" in value:
                cases[f"{key}#{n}-arabic-digits"] = _replace(n, value.translate(ARABIC))
                cases[f"{key}#{n}-superscript-digits"] = _replace(n, value.translate(SUPER))
    nic = _keys()[[k for _, _, k, _ in _keys()].index("nic")]
    cases["nic-upper-case"] = EXAMPLE.replace('nic = "nic1"', 'nic = "NIC1"')
    cases["nic-number"] = EXAMPLE.replace('nic = "nic1"', "nic = 1")
    cases["nic-missing"] = EXAMPLE.replace('nic = "nic1"\n', "", 1)
    cases["hostname-newline-then-more"] = EXAMPLE.replace(
        '"support.example.net"', '"support\\n.example.net"')
    cases["nul-escape"] = EXAMPLE.replace('"B400"', '"B4\\u0000"')
    cases["raw-nul"] = EXAMPLE.replace("B400-", "B\x00400-")
    cases["raw-escape"] = EXAMPLE.replace("B400-", "\x1b]0;owned\x07")
    cases["bidi-override"] = EXAMPLE.replace("support.example", "support\u202eelpmaxe")
    cases["bidi-in-comment"] = EXAMPLE.replace("# Status", "# \u2066Status", 1)
    cases["deep-arrays"] = EXAMPLE + "deep = " + "[" * 5000 + "]" * 5000 + "\n"
    cases["deep-inline-tables"] = EXAMPLE + "deep = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n"
    cases["deep-dotted-keys"] = EXAMPLE + "\n[x]\n" + ".".join(["a"] * 3000) + " = 1\n"
    assert nic
    return cases


CASES = _cases()


def _check(problems: list[str], name: str, needs_line: bool = True) -> None:
    assert problems
    for line in problems:
        assert re.match(re.escape(name) + (r":\d+: " if needs_line else r":(\d+:)? "), line), line
        assert not unsafe_in(line), line
        assert "Traceback" not in line


def test_the_corpus_has_at_least_sixty_cases():
    assert len(CASES) + len(FILE_CASES) >= 60


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_mutated_sheet_is_refused_with_file_and_line(tmp_path, case):
    path = tmp_path / "site.toml"
    path.write_text(CASES[case], encoding="utf-8")
    with pytest.raises(SheetInvalid) as caught:
        load_sheet(path)
    assert caught.value.exit_status == 2
    _check(caught.value.problems, str(path))


def _huge(tmp_path):
    p = tmp_path / "huge.toml"
    p.write_text(EXAMPLE + "# " + "x" * (2 * 1024 * 1024) + "\n")
    return p


def _fifo(tmp_path):
    p = tmp_path / "fifo.toml"
    os.mkfifo(p)
    return p


FILE_CASES = {
    "huge": _huge,
    "fifo": _fifo,
    "dev-zero": lambda tmp_path: Path("/dev/zero"),
    "dev-null": lambda tmp_path: Path("/dev/null"),
    "directory": lambda tmp_path: tmp_path,
    "not-utf8": lambda tmp_path: (tmp_path / "l1.toml").write_bytes(b"format = 1\n\xff\n") and tmp_path / "l1.toml",
}


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_files_that_are_not_sheets_are_refused_without_being_read(tmp_path, case):
    path = FILE_CASES[case](tmp_path)
    with pytest.raises(SheetInvalid) as caught:
        load_sheet(path)
    _check(caught.value.problems, str(path), needs_line=case == "not-utf8")


def test_a_fifo_given_to_the_command_line_exits_2_at_once(tmp_path):
    fifo = _fifo(tmp_path)
    run = subprocess.run([sys.executable, "-m", "bringup", "readiness", "--sheet", str(fifo)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    assert "FIFO" in run.stderr + run.stdout and "Traceback" not in run.stderr
