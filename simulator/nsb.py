"""The simulator's /login backup file (NSB): its own making, not the vendor's.

The vendor documents that /login's settings and data come as one
password-protected NSB file, but not its format: bringup treats it as opaque
bytes. The simulator needs one it can write (``/api/backup``) and read back
(Restore Settings), so this is its own format (modelled, docs/DESIGN.md):

    b"SIMNSB1\\n"                                  magic
    one line of JSON, then b"\\n"                   the header, in clear:
        format, software_version, base_version, serial, hostname, created,
        kdf (scrypt n/r/p and a hex salt), check (proves the password),
        chunk (plaintext bytes per chunk), length (plaintext bytes)
    chunks                                          AES-256-GCM, each chunk
                                                    plus its 16-byte tag

The plaintext is a 4-byte big-endian length, the /login state as JSON, then
``padding`` bytes of logged session data (zeros: a large backup for the
bench costs no memory and little time to make). The key is scrypt(password,
salt); each chunk's nonce is its number, and the header and "last" flag are
bound into each tag, so a truncated, reordered or edited file is refused, and
a wrong password is told apart from a damaged file by ``check``.

``writer(...)`` gives the total size first and then the bytes chunk by
chunk (memory stays flat however large); ``read_state(stream, password)``
opens one.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import struct
import time
from typing import BinaryIO, Iterator

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"SIMNSB1\n"
CHUNK = 1 << 20
TAG = 16
SCRYPT = {"n": 1 << 14, "r": 8, "p": 1}
MAX_HEADER = 64 * 1024


class NsbError(ValueError):
    """The file cannot be restored; ``reason`` is "wrong_password", "corrupt"
    or "not_nsb", the message says it in words."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


def _key(password: str, kdf: dict) -> bytes:
    return Scrypt(salt=bytes.fromhex(kdf["salt"]), length=32, n=kdf["n"], r=kdf["r"],
                  p=kdf["p"]).derive(password.encode())


def _check(key: bytes) -> str:
    return hmac.new(key, b"simulated NSB password check", hashlib.sha256).hexdigest()


def _nonce(n: int) -> bytes:
    return struct.pack(">4xQ", n)


def _aad(header_line: bytes, n: int, last: bool) -> bytes:
    return hashlib.sha256(header_line).digest() + struct.pack(">Q?", n, last)


class Writer:
    """One NSB being made: ``size`` is known before the first byte;
    iterate to get the bytes."""

    def __init__(self, state: dict, password: str, *, padding: int = 0, about: dict | None = None,
                 chunk: int = CHUNK):
        body = json.dumps(state, sort_keys=True).encode()
        self._head = struct.pack(">I", len(body)) + body
        self.length = len(self._head) + max(0, int(padding))
        kdf = {"name": "scrypt", **SCRYPT, "salt": os.urandom(16).hex()}
        self._key = _key(password, kdf)
        header = {"format": 1, **(about or {}), "kdf": kdf, "check": _check(self._key),
                  "chunk": chunk, "length": self.length,
                  "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        self._header_line = json.dumps(header, sort_keys=True).encode()
        self._chunk = chunk
        chunks = max(1, -(-self.length // chunk))
        self.size = len(MAGIC) + len(self._header_line) + 1 + self.length + chunks * TAG

    def __iter__(self) -> Iterator[bytes]:
        yield MAGIC + self._header_line + b"\n"
        aes = AESGCM(self._key)
        zeros = bytes(self._chunk)
        done, n = 0, 0
        while True:
            size = min(self._chunk, self.length - done)
            if done < len(self._head):
                plain = (self._head[done:done + size] + zeros)[:size]
            else:
                plain = zeros if size == self._chunk else zeros[:size]
            done += size
            last = done >= self.length
            yield aes.encrypt(_nonce(n), plain, _aad(self._header_line, n, last))
            n += 1
            if last:
                return


def read_header(stream: BinaryIO) -> tuple[dict, bytes]:
    """(header, its raw line) of an NSB; NsbError "not_nsb" when it is not one."""
    if stream.read(len(MAGIC)) != MAGIC:
        raise NsbError("not_nsb", "not a backup file of this appliance")
    line = stream.readline(MAX_HEADER)
    try:
        header = json.loads(line)
        assert isinstance(header, dict) and header.get("format") == 1
    except (ValueError, AssertionError):
        raise NsbError("corrupt", "the backup file is damaged (its header cannot be read)") from None
    return header, line.rstrip(b"\n")


def read_state(stream: BinaryIO, password: str) -> tuple[dict, dict]:
    """(header, the /login state) of the NSB in ``stream``, reading it whole
    chunk by chunk (the session data is checked and dropped). NsbError:
    not_nsb, wrong_password, corrupt (truncated, edited, or cut short)."""
    header, line = read_header(stream)
    try:
        key = _key(password, header["kdf"])
        chunk, length = int(header["chunk"]), int(header["length"])
    except (KeyError, TypeError, ValueError):
        raise NsbError("corrupt", "the backup file is damaged (its header cannot be read)") from None
    if not hmac.compare_digest(_check(key), str(header.get("check", ""))):
        raise NsbError("wrong_password", "the backup password does not open this backup file")
    aes = AESGCM(key)
    head, need, done, n = b"", None, 0, 0
    while done < length:
        size = min(chunk, length - done)
        sealed = stream.read(size + TAG)
        last = done + size >= length
        try:
            plain = aes.decrypt(_nonce(n), sealed, _aad(line, n, last))
        except Exception:
            raise NsbError("corrupt", f"the backup file is damaged (at byte "
                                      f"{done + n * TAG} of its data)") from None
        if need is None or len(head) < need:
            head += plain
            if need is None and len(head) >= 4:
                need = 4 + struct.unpack(">I", head[:4])[0]
        done += size
        n += 1
    if stream.read(1):
        raise NsbError("corrupt", "the backup file is damaged (bytes after its end)")
    try:
        state = json.loads(head[4:need])
    except (ValueError, TypeError):
        raise NsbError("corrupt", "the backup file is damaged (its settings cannot be read)") from None
    return header, state
