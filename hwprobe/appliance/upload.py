"""Uploading a file to the appliance as a browser does (multipart/form-data),
streamed from disk: Import a certificate, an update file, Restore Settings.

requests builds a multipart body in memory (``files=``), which for a /login
backup of a gigabyte or more would grow bringup by as much. ``MultipartFile``
is the body as a file-like object instead: the text fields and the part's
head, the file read block by block as the connection asks for it, then the
closing boundary. Its length is known up front (``len()``), so requests
sends a Content-Length, not chunks, as a browser's form would. Memory stays
at one block whatever the file's size. (Our own, not requests-toolbelt's
MultipartEncoder: the same idea in sixty lines, and no new dependency in the
offline bundle.)

``post_upload(session, url, body, ...)`` sends one and reads the answer,
bounded like every other answer of the appliance.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Callable, Mapping

import requests

from hwprobe.errors import CertificateChanged, Unreachable

# blocks of 256 KiB: large enough that the per-block cost (a TLS record and a
# Python call or two) disappears, small enough to stay in the CPU's cache
BLOCK = 256 * 1024
IDLE_SECONDS = 120.0        # an appliance may check a large file before it answers
ANSWER_BYTES = 4 * 1024 * 1024
ANSWER_SECONDS = 30.0
Progress = Callable[[int, int], None]       # (file bytes sent, file size)


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", "").replace("\n", "")


class MultipartFile:
    """A multipart/form-data body: ``fields`` (text), then the file at
    ``path`` as form field ``file_field``. ``on_progress(sent, size)`` hears
    each block as it goes out. OSError from the disk when it is read."""

    def __init__(self, fields: Mapping[str, str], file_field: str, path: str | os.PathLike,
                 *, filename: str | None = None, on_progress: Progress | None = None,
                 content_type: str = "application/octet-stream"):
        self.path = Path(path)
        self.boundary = f"bringup-{secrets.token_hex(16)}"
        self.size = self.path.stat().st_size
        dash = f"--{self.boundary}\r\n"
        head = "".join(f'{dash}Content-Disposition: form-data; name="{_quoted(k)}"\r\n\r\n'
                       f"{v}\r\n" for k, v in fields.items())
        head += (f'{dash}Content-Disposition: form-data; name="{_quoted(file_field)}"; '
                 f'filename="{_quoted(filename or self.path.name)}"\r\n'
                 f"Content-Type: {content_type}\r\n\r\n")
        self._head = head.encode()
        self._tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.length = len(self._head) + self.size + len(self._tail)
        self.sent = 0               # file bytes handed to the connection so far
        self._file = None
        self._stage = 0             # 0 head, 1 file, 2 tail, 3 done
        self._progress = on_progress

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self.length

    def read(self, size: int = -1) -> bytes:
        """The next piece of the body (a block of the file at most; the
        connection does not ask for an exact size); b"" at its end."""
        if self._stage == 0:
            self._stage = 1
            self._file = open(self.path, "rb")
            return self._head
        if self._stage == 1:
            block = self._file.read(BLOCK)
            if block:
                self.sent += len(block)
                if self._progress is not None:
                    self._progress(self.sent, self.size)
                return block
            self._file.close()
            if self.sent != self.size:
                raise OSError(f"{self.path} changed while it was sent ({self.sent} of "
                              f"{self.size} bytes)")
            self._stage = 2
            return self._tail
        self._stage = 3
        return b""

    def close(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()


def post_upload(session: requests.Session, url: str, body: MultipartFile, *, what: str,
                timeout: tuple[float, float] = (3.0, IDLE_SECONDS),
                headers: Mapping[str, str] | None = None) -> requests.Response:
    """POST ``body`` to ``url`` over ``session`` (pinned), redirects not
    followed; returns the answer with its body read (at most ANSWER_BYTES,
    ANSWER_SECONDS after its head). Raises CertificateChanged (another
    certificate answered), Unreachable (no answer, dropped or too slow: the
    message says how much of the file had gone; ``applied`` None, the
    appliance may or may not have taken it)."""
    from hwprobe.appliance.pinning import read_bounded, why

    try:
        try:
            resp = session.request("POST", url, data=body, stream=True, timeout=timeout,
                                   allow_redirects=False,
                                   headers={"Content-Type": body.content_type, **(headers or {})})
        finally:
            body.close()
    except requests.exceptions.SSLError as exc:
        if "fingerprint" in str(exc).lower():
            raise CertificateChanged("the pinned certificate", "another certificate") from None
        raise _dropped(what, body, why(exc)) from None
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise _dropped(what, body, why(exc)) from None
    read_bounded(resp, limit=ANSWER_BYTES, seconds=ANSWER_SECONDS, what=what)
    return resp


def _dropped(what: str, body: MultipartFile, reason: str) -> Unreachable:
    sent = (f"after all {body.size} bytes of {body.path.name} were sent" if body.sent >= body.size
            else f"after {body.sent} of {body.size} bytes of {body.path.name}")
    error = Unreachable(f"the upload to {what} stopped {sent} ({reason}): the appliance may or "
                        "may not have taken it; run again, bringup looks before it sends again")
    error.applied = None
    return error
