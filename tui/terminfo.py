"""Only what the terminal's terminfo entry has, at TERM=linux, vt100, vt220...

Textual's Linux driver writes xterm's private modes to every terminal: focus
events (``?1004h``), bracketed paste (``?2004h``), the kitty keyboard protocol
(``>25u``), mode queries (``?2026$p``), the alternate screen, pointer shapes
(OSC 22), 256 and 24-bit colours. A VT220 or the Linux console may print them
as garbage or misread them. At a TERM in ``RESTRICTED_TERMS`` the console uses
``TerminfoDriver``: every escape sequence it writes passes ``Terminfo.filter``
(the driver is in tui/vtdriver.py),
which keeps a sequence only when the entry has it:

- a private or non-CSI sequence (``ESC [ ?``, ``ESC [ >``, ``$p``, OSC, DCS,
  ``ESC 7``...) only when it appears literally in one of the entry's strings;
- a plain CSI sequence (cursor moves, erase) only when one of the entry's
  strings, expanded with sample parameters, has the same shape (digits aside);
- SGR (colours and attributes) parameter by parameter: attributes the entry
  has (bold, underline, blink, reverse...), colours it has (``colors#8``:
  30-37/40-47; bright 90-97 fold onto 30-37; none at vt100 and vt220; 256 and
  24-bit colours only with ``colors#256``).

Without the alternate screen (linux, vt100) the screen is cleared with the
entry's ``clear`` on exit. The capabilities come from the terminfo database
through the curses module; when it cannot be read, a built-in VT100 subset is
used. Nothing here raises.
"""
from __future__ import annotations

import re
from functools import lru_cache

RESTRICTED_TERMS = ("linux", "vt100", "vt102", "vt220", "vt320", "vt420", "ansi")

_STRING_CAPS = (
    "smcup", "rmcup", "civis", "cnorm", "cvvis", "smam", "rmam", "clear", "el", "el1", "ed",
    "home", "cup", "cuu", "cud", "cuf", "cub", "cuu1", "cud1", "cuf1", "cub1", "hpa", "vpa",
    "csr", "sc", "rc", "ind", "ri", "il", "dl", "il1", "dl1", "ich", "dch", "ich1", "dch1",
    "ech", "smkx", "rmkx", "enacs", "smacs", "rmacs", "sgr0", "sgr", "bold", "dim", "smul",
    "rmul", "blink", "rev", "smso", "rmso", "sitm", "ritm", "invis", "setaf", "setab", "op",
    "flash", "is2", "rs2", "tsl", "fsl", "dsl", "kmous", "bel",
)
# the sequences the console itself needs, when the database cannot be read
_FALLBACK = {"cup": "\x1b[%i%p1%d;%p2%dH", "clear": "\x1b[H\x1b[J", "el": "\x1b[K",
             "ed": "\x1b[J", "sgr0": "\x1b[m", "bold": "\x1b[1m", "smul": "\x1b[4m",
             "rev": "\x1b[7m", "blink": "\x1b[5m"}

_SEQUENCE = re.compile(
    r"\x1b\[(?P<params>[\x30-\x3f]*)(?P<inter>[\x20-\x2f]*)(?P<final>[\x40-\x7e])"   # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"                                            # OSC
    r"|\x1b[P_^X][^\x1b]*\x1b\\"                                                     # DCS/APC...
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]")                                                 # ESC x
UNFINISHED = re.compile(r"\x1b(\[[\x20-\x3f]*|\][^\x07\x1b]*|[P_^X][^\x1b]*|[\x20-\x2f]*)?$")
_PADDING = re.compile(r"\$<[\d.*/]+>")


def _shape(seq: str) -> str:
    return re.sub(r"\d+", "N", seq)


class Terminfo:
    """What one terminfo entry lets the console send."""

    def __init__(self, term: str):
        self.term = term
        caps = _read_caps(term)
        self.colors = caps.pop("colors", 0) or 0
        self.literals: set[str] = set()     # every escape sequence in the entry
        self.shapes: set[str] = set()       # plain CSI shapes, digits as N
        self.sgr: set[int] = {0}
        for name, value in caps.items():
            for text in _expansions(name, value):
                for m in _SEQUENCE.finditer(text):
                    seq = m.group(0)
                    self.literals.add(seq)
                    if m.group("final") == "m" and not m.group("inter"):
                        self.sgr.update(int(p) for p in (m.group("params") or "0").split(";")
                                        if p.isdigit())
                    elif m.group("final") and not re.search(r"[<=>?]", m.group("params")):
                        self.shapes.add(_shape(seq))
        self.has = {name for name in caps}
        self.clear = _PADDING.sub("", caps.get("clear", ""))

    # --- the filter ---------------------------------------------------------------
    def filter(self, data: str) -> str:
        """``data`` without what the entry does not have (see the module doc)."""
        if "\x1b" not in data:
            return data
        return _SEQUENCE.sub(self._keep, data)

    def _keep(self, m: re.Match) -> str:
        seq = m.group(0)
        if seq in self.literals:
            return seq
        final = m.group("final")
        if final is None:                        # OSC, DCS, ESC x: only as the entry has it
            return ""
        params, inter = m.group("params"), m.group("inter")
        if final == "m" and not inter and not re.search(r"[<=>?]", params):
            return self._sgr(params)
        if inter or re.search(r"[<=>?]", params):
            return ""
        return seq if _shape(seq) in self.shapes else ""

    def _sgr(self, params: str) -> str:
        out, items = [], (params or "0").split(";")
        i = 0
        while i < len(items):
            if not items[i].isdigit():         # "4:3" and such: not in any entry
                i += 1
                continue
            p = int(items[i])
            if p in (38, 48):                  # 38;5;n or 38;2;r;g;b
                n = 3 if i + 1 < len(items) and items[i + 1] == "5" else 5
                if self.colors >= 256 and n == 3:
                    out += items[i:i + n]
                i += n
                continue
            if p not in self.sgr and 90 <= p <= 97 and p - 60 in self.sgr:
                p -= 60                        # bright colours: the plain one
            elif p not in self.sgr and 100 <= p <= 107 and p - 60 in self.sgr:
                p -= 60
            if p in self.sgr:
                out.append(str(p))
            i += 1
        return f"\x1b[{';'.join(out)}m" if out else ""


def _read_caps(term: str) -> dict:
    """{capability: string} (and ``colors``) of ``term`` from the terminfo
    database; the built-in subset when it cannot be read."""
    try:
        import curses

        curses.setupterm(term, -1)
    except Exception:                         # no curses module, no entry, no database
        return dict(_FALLBACK)
    caps: dict = {}
    for name in _STRING_CAPS:
        try:
            value = curses.tigetstr(name)
        except curses.error:
            value = None
        if value:
            caps[name] = value.decode("latin-1")
    caps["colors"] = max(curses.tigetnum("colors"), 0)
    return caps


def _expansions(name: str, value: str) -> list[str]:
    """The strings a capability can produce: itself, or for a parameterised
    one, its expansion with sample parameters (every colour for setaf/setab,
    each attribute alone for sgr)."""
    value = _PADDING.sub("", value)
    if "%" not in value:
        return [value]
    if name in ("setaf", "setab"):
        samples = [(n,) for n in range(16)] + [(200,)]
    elif name == "sgr":
        samples = [tuple(int(i == k) for i in range(9)) for k in range(9)]
    else:
        samples = [(3, 5), (12, 34)]
    out = []
    for args in samples:
        expanded = _tparm(value, *args)
        if expanded is not None:
            out.append(expanded)
    return out


def _tparm(value: str, *args: int) -> str | None:
    try:
        import curses

        return curses.tparm(value.encode("latin-1"), *args).decode("latin-1")
    except Exception:
        # no curses (the fallback entry): only cup is parameterised there
        return value.replace("%i%p1%d", str(args[0] + 1)).replace(
            "%p2%d", str(args[1] + 1 if len(args) > 1 else 1)) if "%p1" in value else None


@lru_cache(maxsize=8)
def for_term(term: str) -> Terminfo:
    return Terminfo(term)


def restricted(term: str | None) -> bool:
    """True when TERM names a terminal that gets only its terminfo's sequences."""
    return bool(term) and term.split("-")[0] in RESTRICTED_TERMS
