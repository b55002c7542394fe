"""The console's channel: text over the transport, with a transcript.

The channel reads what the appliance prints into a buffer (decoded as UTF-8
across reads), types lines (ended by CR, as a terminal's Enter key does),
waits until the output ends with one of the prompts it is given, and writes
every byte of the session to a timestamped transcript. What the appliance
prints goes on, in batches (at most every 50 ms), to ``on_bytes`` for a
console pane.

Passwords never leave it: a line typed as a secret is written ``********``,
and every known secret is masked in the transcript and in what ``on_bytes``
gets, also when the appliance echoes it one byte per read (the end of what
came so far that could be the start of a secret is held until the rest).

A read or write on a line that went away is handed to ``on_drop(exc)``: the
driver reopens there (or raises); without it the LineDropped is raised.
"""
from __future__ import annotations

import codecs
import time
from pathlib import Path
from typing import Callable

from hwprobe import redact
from hwprobe.constants import FACTORY_PASSWORD
from hwprobe.errors import Unreachable
from hwprobe.appliance.console.transcript import MASK, Transcript, default_transcript_path
from hwprobe.appliance.console.transport import LineDropped, Transport

MAX_BUFFER = 256 * 1024     # what is kept of the output since the last line typed
BATCH_SECONDS = 0.05


class Channel:
    """Prompts and echo over ``transport``. ``timeout`` is how long ``wait``
    waits by default; ``transcript_path`` the file to record the session in
    (default: ``default_transcript_path()`` when opened)."""

    def __init__(self, transport: Transport, *, timeout: float = 10.0,
                 transcript_path: str | Path | None = None,
                 on_bytes: Callable[[bytes], None] | None = None,
                 on_drop: Callable[[LineDropped], None] | None = None):
        self.transport = transport
        self.timeout = timeout
        self.transcript_path = Path(transcript_path) if transcript_path else None
        self.transcript: Transcript | None = None
        self.on_bytes = on_bytes
        self.on_drop = on_drop
        self.secrets: set[str] = set()
        # every line typed as a secret, the factory password included: its
        # echo (a line that is exactly it) is masked, though the word itself is public
        self.typed: set[str] = set()
        self.buffer = ""            # what the appliance printed since the last line typed
        # a byte that is not UTF-8 is kept as it came (shown as \xNN, never "?")
        self._decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self._pending = b""
        self._last_flush = 0.0

    @property
    def device(self) -> str:
        return self.transport.device

    # --- open / close ---------------------------------------------------------------------

    def open(self) -> None:
        """Open the transport and start the transcript. Raises Unreachable when
        the line cannot be opened (no transcript is started then)."""
        self.transport.open()
        self.transcript_path = self.transcript_path or default_transcript_path()
        self.transcript = Transcript(self.transcript_path, self.device, self.transport.settings,
                                     scrub=self.scrub, held_back=self.held_back)

    def close(self) -> None:
        """Hand on what is still held for ``on_bytes``, close the transport and
        the transcript, forget the secrets. Never raises."""
        self.flush_bytes(final=True)
        self.transport.close()
        if self.transcript:
            self.transcript.close()
        self.secrets.clear()
        self.typed.clear()

    # --- masking --------------------------------------------------------------------------

    def hide(self, *secrets: str) -> None:
        """Mask each of ``secrets`` from now on (the factory password is public,
        and a word: it is never masked)."""
        self.secrets.update(s for s in secrets if s and s != FACTORY_PASSWORD)

    def scrub(self, text: str) -> str:
        """``text`` with every known secret written ``********``, and a line
        that is exactly what was typed at a password prompt (its echo: the
        factory password too) written ``********``."""
        text = redact.masked(text, self.secrets, MASK)
        if not self.typed:
            return text
        lines = text.split("\n")
        return "\n".join(_masked_echo(line, self.typed) for line in lines)

    def held_back(self, text: str) -> int:
        """How many characters at the end of ``text`` could be the start of a
        password still arriving (an echo one byte per read): held until the rest."""
        longest = 0
        for secret in self.secrets | self.typed:
            for n in range(min(len(secret) - 1, len(text)), longest, -1):
                if text.endswith(secret[:n]):
                    longest = n
                    break
        return longest

    def flush_bytes(self, final: bool = False) -> None:
        """Hand what came since the last batch to ``on_bytes``, masked; the end
        that could be a secret still arriving waits, unless ``final``."""
        if self._pending and self.on_bytes is not None:
            text = self.scrub(self._pending.decode("utf-8", "surrogateescape"))
            keep = 0 if final else self.held_back(text)
            out, rest = text[: len(text) - keep], text[len(text) - keep:]
            self._pending = rest.encode("utf-8", "surrogateescape")
            if out:
                self.on_bytes(out.encode("utf-8", "surrogateescape"))
        else:
            self._pending = b""
        self._last_flush = time.monotonic()

    # --- bytes in and out -------------------------------------------------------------------

    def read(self, size: int | None = None) -> str:
        """Read what is there (waiting at most the transport's read timeout)
        into the buffer and the transcript; returns the text read. A dropped
        line goes to ``on_drop`` ("" then), else LineDropped is raised."""
        try:
            data = self.transport.read(size)
        except LineDropped as exc:
            if self.on_drop is None:
                raise
            self.on_drop(exc)
            return ""
        text = ""
        if data:
            text = self._decoder.decode(data)
            self.buffer += text
            self.transcript.received(text)          # masked there, a whole line at a time
            if len(self.buffer) > MAX_BUFFER:       # an endless stream with no prompt
                self.buffer = self.buffer[-MAX_BUFFER:]
            self._pending += data
        if time.monotonic() - self._last_flush >= BATCH_SECONDS:
            self.flush_bytes()
        return text

    def send(self, text: str, *, secret: bool = False) -> None:
        """Type a line (ended by CR, as a terminal's Enter key does); a
        ``secret`` one is masked from then on and written ``********``."""
        if secret:
            self.hide(text)
            if text:
                self.typed.add(text)
        self.buffer = ""
        self.write(text.encode() + b"\r", MASK if secret else text)

    def write(self, data: bytes, said: str) -> None:
        """Send ``data`` and record it in the transcript as ``said``. A dropped
        line goes to ``on_drop`` and ``data`` is sent once more (Unreachable if
        that fails too); without ``on_drop`` LineDropped is raised, nothing
        recorded."""
        try:
            self.transport.write(data)
        except LineDropped as exc:
            if self.on_drop is None:
                raise
            self.on_drop(exc)
            try:
                self.transport.write(data)
            except LineDropped as again:
                raise Unreachable(f"cannot write to the console {self.device} "
                                  f"({again.cause}): check the cable") from None
        self.transcript.sent(said)

    def note(self, text: str) -> None:
        """A ``# `` line in the transcript."""
        self.transcript.note(text)

    def forget(self) -> None:
        """Forget what the appliance printed so far (the next prompt counts)."""
        self.buffer = ""

    # --- prompts ------------------------------------------------------------------------------

    def no_answer(self, timeout: float) -> Unreachable:
        """The error for a console silent for ``timeout`` seconds, with what to check."""
        return Unreachable(
            f"no answer from the console on {self.device} within {timeout:g} s: check the "
            f"cable, the baud rate ({self.transport.settings}) and that the appliance is powered")

    def wait(self, prompts: list[str], timeout: float | None = None) -> tuple[str, str]:
        """Read until the output ends with one of ``prompts`` (the console then
        waits for input). Returns (prompt, what came before it since the last
        line typed). Raises Unreachable after ``timeout`` seconds (default: the
        channel's)."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            for prompt in prompts:
                if self.buffer.endswith(prompt):
                    text = self.buffer[: -len(prompt)]
                    self.buffer = ""
                    self.flush_bytes()
                    return prompt, text
            if time.monotonic() >= deadline:
                self.flush_bytes()
                raise self.no_answer(timeout)
            self.read()

    def drain(self, seconds: float) -> None:
        """Read (into the transcript) whatever comes for ``seconds``."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.read()


def _masked_echo(line: str, typed: set[str]) -> str:
    """``line`` as ``********`` when it is, but for its line end, exactly
    one of the ``typed`` secrets (the console echoing it back)."""
    end = len(line) - len(line.rstrip("\r"))
    return MASK + line[len(line) - end:] if line.rstrip("\r").strip() in typed else line
