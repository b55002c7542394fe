"""A hostile appliance: answers built to crash, hang, spoof or exhaust a client.

Switched at run time through the control socket, ``fault=hostile,
value="CASE"`` or ``"CASE@/appliance/path"`` (only that page;
``CASE@POST:/path`` only its answers to a POST), ``value=""`` to stop.
``serve`` replaces one normal answer of the web face by the case's.
``value_escapes`` ends every visible form value (a text field's, a text
area's) with ``SPOOF``: appliance text in the values read back after a
save. ``refuse_escapes`` refuses every save (before it is stored) with a
message that quotes the value sent and ends with ``SPOOF``: appliance text
in a validation error (``refuse_escapes@/appliance/login``: the login). The local console (simulator/console.py) plays two
cases too: ``escapes``
(every line it prints ends with ``SPOOF``), and two console-only cases:
``echo_secret`` (passwords are echoed back one byte per write, as a broken
firmware does) and ``chatter`` (output without end and without a newline,
whenever it waits for input).
"""
from __future__ import annotations

import gzip
import re
import time

SPOOF = "\x1b]0;owned\x07\x1b[2J\x1b]8;;https://203.0.113.66/\x1b\\[b]ok[/b] :ab: \x9b31m"
CASES = ("escapes", "huge", "endless", "drip", "drip_head", "cut", "bad_gzip", "deep",
         "odd_digits", "bad_utf8", "redirect_out", "value_escapes", "refuse_escapes", "echo_secret", "chatter")
CONSOLE_ONLY = ("echo_secret", "chatter")
_CELL = re.compile(r"(<td[^>]*>)([^<]*)(</td>)")
_VALUE = re.compile(r'(<input type="(?:text|email|number)"[^>]*\bvalue=")([^"]*)(")')
_TEXTAREA = re.compile(r"(<textarea[^>]*>)([^<]*)(</textarea>)")
_SUPERSCRIPT = str.maketrans("0123456789", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


class Hostile:
    """Which case is on, and for which page (None: every page after login)."""

    def __init__(self, value: str):
        case, _, path = value.partition("@")
        if case not in CASES:
            raise ValueError(f"hostile: unknown case {case!r}; known: {', '.join(CASES)}")
        # "POST:/path" (or "GET:/path"): only that method's answers on the page
        method, colon, bare = path.partition(":")
        self.method = method if colon and method in ("GET", "POST") else None
        self.case, self.path = case, (bare if self.method else path) or None

    def matches(self, path: str, command: str) -> bool:
        """True when the web face must answer ``command path`` with the case."""
        if self.case in CONSOLE_ONLY or self.case == "refuse_escapes":
            return False
        path = path.split("?")[0]
        if self.path is not None:
            return path == self.path and self.method in (None, command)
        return command == "GET" and "/login" not in path and path not in ("/appliance", "/appliance/")


    def refuses(self, path: str) -> bool:
        """True when a save posted to ``path`` must be refused (refuse_escapes)."""
        path = path.split("?")[0]
        if self.case != "refuse_escapes":
            return False
        # every save; the login only when it is the page named
        return path == self.path if self.path is not None else "/login" not in path


def refusal(form: dict) -> str:
    """The refusal of a save: the first value sent, quoted back, and SPOOF."""
    value = next((v for k, v in form.items() if v and "csrf" not in k and "password" not in k),
                 "")
    return f"value refused: {value}{SPOOF}"


def _drip(w, data: bytes) -> None:
    """Send ``data`` one byte every 2 s, until the peer goes away."""
    try:
        for i in range(len(data)):
            w.write(data[i:i + 1])
            w.flush()
            time.sleep(2.0)
    except OSError:
        pass


def serve(handler, case: str, status: int, data: bytes, headers: list[tuple[str, str]]) -> None:
    """Write the hostile answer for ``case`` on ``handler`` (an HTTP request
    handler) in place of ``status``/``data``/``headers``."""
    w = handler.wfile
    if case == "redirect_out":
        handler.send_response(302)
        handler.send_header("Location", "https://203.0.113.66/appliance/login")
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return
    if case in ("escapes", "odd_digits", "deep", "bad_utf8", "value_escapes"):
        text = data.decode("utf-8", "replace")
        if case == "value_escapes":
            for pattern in (_VALUE, _TEXTAREA):
                text = pattern.sub(lambda m: m.group(1) + m.group(2) + SPOOF + m.group(3)
                                   if m.group(2).strip() else m.group(0), text)
            body = text.encode()
        elif case == "escapes":
            text = _CELL.sub(lambda m: m.group(1) + m.group(2) + SPOOF + m.group(3), text)
            text = text.replace("</title>", SPOOF + "</title>")
            body = text.encode()
        elif case == "odd_digits":
            body = _CELL.sub(lambda m: m.group(1) + m.group(2).translate(_SUPERSCRIPT) + m.group(3),
                             text).encode()
        elif case == "deep":
            body = text.replace("<body>", "<body>" + "<div>" * 5000, 1).encode()
        else:
            body = _CELL.sub(lambda m: m.group(1) + m.group(2) + "\udcff" + m.group(3), text) \
                .encode("utf-8", "surrogateescape")
        _head(handler, status, headers, length=len(body))
        w.write(body)
        return
    if case == "huge":
        size = 50 * 1024 * 1024
        _head(handler, status, headers, length=size)
        block = b"<p>" + b"x" * 65533
        try:
            for _ in range(size // len(block)):
                w.write(block)
        except OSError:
            pass
        return
    if case == "endless":
        _head(handler, status, headers, chunked=True)
        block = b"<p>" + b"y" * 65533
        chunk = f"{len(block):x}\r\n".encode() + block + b"\r\n"
        try:
            while True:
                w.write(chunk)
        except OSError:
            return
    if case == "drip":
        _head(handler, status, headers, length=len(data))
        _drip(w, data)
        return
    if case == "drip_head":       # the status line and headers too, one byte every 2 s
        head = f"HTTP/1.1 {status} OK\r\nContent-Length: {len(data)}\r\n\r\n".encode()
        handler.close_connection = True
        _drip(w, head)
        return
    if case == "cut":
        _head(handler, status, headers, length=len(data) + 1000)
        w.write(data[: len(data) // 2])
        handler.close_connection = True
        return
    if case == "bad_gzip":
        body = gzip.compress(data)[:20] + b"\x00garbage" * 50
        _head(handler, status, headers, length=len(body), extra=[("Content-Encoding", "gzip")])
        w.write(body)
        return


def _head(handler, status, headers, length=None, chunked=False, extra=()):
    handler.send_response(status)
    for k, v in [*headers, *extra]:
        if k.lower() not in ("content-length", "transfer-encoding"):
            handler.send_header(k, v)
    if chunked:
        handler.send_header("Transfer-Encoding", "chunked")
    else:
        handler.send_header("Content-Length", str(length))
    handler.end_headers()
