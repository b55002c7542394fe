"""The quick card, man page and completion come from the same text as --help;
the card's PDF renders to exactly one page; the bundle ships them."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import require_tool

ROOT = Path(__file__).resolve().parent.parent


def _generate(tmp_path) -> Path:
    out = tmp_path / "bringup_docs"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-docs"), str(out)], check=True,
                   timeout=60)
    return out


def test_quick_card_pdf_renders_to_one_page_with_the_help_text(tmp_path):
    pdftoppm = require_tool("pdftoppm", "poppler-utils")
    docs = _generate(tmp_path)
    r = subprocess.run([pdftoppm, "-png", "-r", "50", str(docs / "quick-card.pdf"),
                        str(tmp_path / "page")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 1, pages
    assert pages[0].stat().st_size > 1000                # something was drawn
    text = subprocess.run(["pdftotext", str(docs / "quick-card.pdf"), "-"],
                          capture_output=True, text=True, timeout=60).stdout
    help_text = subprocess.run([sys.executable, "-m", "bringup", "--help"],
                               capture_output=True, text=True, timeout=60).stdout
    for needle in ("sudo bringup restore-link", "^x quit", "NIC1"):
        assert needle in text and needle in help_text, needle


def test_man_page_and_completion_name_every_command(tmp_path):
    docs = _generate(tmp_path)
    man = (docs / "bringup.1").read_text()
    bash = (docs / "bringup.bash").read_text()
    for command in ("probe", "apply", "capture", "restore-link", "demo", "lab", "kit"):
        assert f".B {command.replace('-', chr(92) + '-')}" in man, command
        assert command in bash
    assert "complete -F _bringup bringup" in bash
    assert (docs / "_bringup").read_text().startswith("#compdef bringup")


def test_the_bundle_ships_the_man_page_completion_and_card():
    bundle = ROOT / "dist" / "bringup"
    if not bundle.exists():
        import pytest
        pytest.fail("dist/bringup is missing: make dist")
    names = zipfile.ZipFile(bundle).namelist()
    for name in ("bringup.1", "bringup.bash", "_bringup", "quick-card.pdf", "quick-card.html"):
        assert any(n.endswith(f"bringup_docs/{name}") for n in names), name
