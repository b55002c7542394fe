"""A multipart/form-data request body read as it arrives (the appliance's
upload forms: Import a certificate; a /login backup or an update file).

``read_form(stream, length, content_type, spool_dir)`` returns the text
fields in a dict and each file as an ``Upload`` whose bytes were written to
a file in ``spool_dir`` block by block, so a gigabyte upload costs the
appliance no more memory than a small one. The stdlib's cgi module is gone
from Python 3.13 and email's parser reads a body whole, hence this.
"""
from __future__ import annotations

import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

BLOCK = 256 * 1024
MAX_FIELD = 1 << 20          # a text field larger than this is refused
MAX_HEADERS = 16 * 1024


class BadUpload(ValueError):
    """The body is not the multipart form it says it is."""


@dataclass
class Upload:
    """One uploaded file: the form field's name, the file name the browser
    gave, where its bytes are now, and how many there were."""

    field: str
    filename: str
    path: Path
    size: int

    def discard(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def boundary_of(content_type: str) -> bytes | None:
    """The boundary of a multipart/form-data content type, or None."""
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    found = re.search(r'boundary="?([^";]+)"?', content_type)
    return found.group(1).encode() if found else None


class _Body:
    """At most ``length`` bytes of ``stream``, read a block at a time (at
    most ``rate`` bytes a second when given: a slow link, for drills)."""

    def __init__(self, stream: BinaryIO, length: int, rate: float = 0.0):
        self.stream, self.left, self.rate = stream, length, rate
        self.read, self.started = 0, time.monotonic()

    def more(self) -> bytes:
        if self.left <= 0:
            return b""
        want = min(BLOCK, self.left)
        if self.rate:
            want = min(want, max(1, int(self.rate / 10)))
            ahead = self.read / self.rate - (time.monotonic() - self.started)
            if ahead > 0:
                time.sleep(ahead)
        data = self.stream.read(want)
        if not data:
            raise BadUpload("the upload ended before its last part")
        self.left -= len(data)
        self.read += len(data)
        return data


def _disposition(headers: bytes) -> tuple[str, str | None]:
    text = headers.decode("utf-8", "replace")
    name = re.search(r'\bname="([^"]*)"', text)
    filename = re.search(r'\bfilename="([^"]*)"', text)
    if not name:
        raise BadUpload("a part of the upload has no field name")
    return name.group(1), (filename.group(1) if filename else None)


def read_form(stream: BinaryIO, length: int, content_type: str,
              spool_dir: str | Path, rate: float = 0.0
              ) -> tuple[dict[str, str], dict[str, Upload]]:
    """(text fields, uploads by field name) of a multipart body, read at most
    ``rate`` bytes a second when given. BadUpload when it is malformed or a
    text field is too large; the files of a body refused halfway are removed."""
    boundary = boundary_of(content_type)
    if not boundary:
        raise BadUpload("not a multipart/form-data body with a boundary")
    delim = b"\r\n--" + boundary
    body = _Body(stream, length, rate)
    buf = b"\r\n"                # so the first boundary looks like every other one
    fields: dict[str, str] = {}
    uploads: dict[str, Upload] = {}
    try:
        while delim not in buf:
            data = body.more()
            if not data:
                raise BadUpload("no part in the upload")
            buf = buf[-len(delim):] + data
        buf = buf[buf.index(delim) + len(delim):]
        while True:
            while len(buf) < 2:
                buf += body.more() or b"--"
            if buf.startswith(b"--"):
                while body.more():       # the epilogue: read, so the connection stays in step
                    pass
                return fields, uploads
            while b"\r\n\r\n" not in buf:
                if len(buf) > MAX_HEADERS:
                    raise BadUpload("a part's headers are too long")
                data = body.more()
                if not data:
                    raise BadUpload("the upload ended in a part's headers")
                buf += data
            head, buf = buf[2:].split(b"\r\n\r\n", 1)
            name, filename = _disposition(head)
            if filename is None:
                value, buf = _read_part(body, buf, delim, None)
                fields[name] = value.decode("utf-8", "replace")
                continue
            Path(spool_dir).mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix="upload-", dir=spool_dir)
            upload = Upload(name, filename, Path(tmp), 0)
            uploads[name] = upload
            with os.fdopen(fd, "wb") as out:
                upload.size, buf = _read_part(body, buf, delim, out)
    except BaseException:
        for upload in uploads.values():
            upload.discard()
        raise


def _read_part(body: _Body, buf: bytes, delim: bytes, out: BinaryIO | None):
    """Read one part's bytes up to ``delim``: into ``out`` when given
    (returns the byte count), else into memory (returns the bytes); then
    what follows the delimiter."""
    kept, count = bytearray(), 0
    while True:
        at = buf.find(delim)
        if at >= 0:
            piece, buf = buf[:at], buf[at + len(delim):]
        else:
            # keep what could be the start of the delimiter for the next round
            cut = max(0, len(buf) - len(delim))
            piece, buf = buf[:cut], buf[cut:]
        if out is not None:
            out.write(piece)
        else:
            kept += piece
            if len(kept) > MAX_FIELD:
                raise BadUpload("a text field of the upload is too large")
        count += len(piece)
        if at >= 0:
            return (count if out is not None else bytes(kept)), buf
        data = body.more()
        if not data:
            raise BadUpload("the upload ended inside a part")
        buf += data
