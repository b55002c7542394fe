"""Which profile the console picks, and how it folds glyphs into ASCII."""
from __future__ import annotations

from tui.profile import ascii_char, detect, to_ascii


def test_linux_console_and_vt_terminals_get_the_console_profile():
    for term in ("linux", "vt100", "vt220", "vt220-8"):
        assert detect(term=term, tty="/dev/pts/1").console, term


def test_serial_line_gets_the_console_profile_whatever_term_says():
    assert detect(term="xterm-256color", tty="/dev/ttyUSB0").console
    assert detect(term="xterm-256color", tty="/dev/ttyS0").console


def test_graphical_terminal_keeps_the_full_look_unless_asked():
    assert not detect(term="xterm-256color", tty="/dev/pts/3").console
    assert detect(True, term="xterm-256color", tty="/dev/pts/3").console
    assert not detect(False, term="linux", tty="/dev/tty1").console


def test_glyphs_fold_to_ascii_of_the_same_width():
    assert to_ascii("\u250c\u2500\u2510") == "+-+"
    assert to_ascii("\u2502 ok \u2502") == "| ok |"
    assert to_ascii("\u2022\u2022\u2022") == "***"
    assert ascii_char("\U0001f50e") == "??"          # a wide emoji takes two cells
    assert to_ascii("caf\u00e9") == "cafe"
