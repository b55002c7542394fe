"""The /login backup through the documented backup API.

``https://SITE/api/backup``, GET or POST, with an OAuth bearer token of an
API account that has the backup permission, and the backup password in the
body as ``{"password": "..."}`` (BeyondTrust API guide, "Backup API"). What
comes back is the NSB file; its format is not public and bringup never
parses it: the bytes go to disk as they arrive, in blocks, so a backup of
several gigabytes costs no more memory than a small one.
"""
from __future__ import annotations

from typing import Callable, Protocol

import requests

from hwprobe.errors import ApplianceError, LoginFailed, Unreachable

# blocks of 256 KiB: each is written while still in the CPU's cache and
# hashed on another thread behind the reading (the kit's PartFile); 1 MiB
# blocks were measurably slower, and so was a thread to write behind the
# reading on two cores (bench/bench_kit.py)
BLOCK = 256 * 1024
IDLE_SECONDS = 120.0        # an appliance may think a while before the first byte


class Sink(Protocol):
    def write(self, data: bytes) -> object: ...


class BackupNotAllowed(LoginFailed):
    """The API account may not use the backup API (HTTP 403)."""


def download_backup(client, password: str, sink: Sink,
                    on_progress: Callable[[int, int | None], None] | None = None,
                    idle: float = IDLE_SECONDS) -> int:
    """Fetch the /login backup through ``client`` (a FailoverClient: its
    OAuth token, its pinned HTTPS) into ``sink``; returns the byte count.

    Raises LoginFailed (the API client id or secret refused, or the token),
    BackupNotAllowed (no backup permission), ApplianceError (any other
    answer), Unreachable (no answer, or cut short: how far it got)."""
    who = client.address
    resp = None
    for attempt in (1, 2):              # a token that ended early is fetched once more
        resp = client.open_stream("POST", "/api/backup", json={"password": password},
                                  headers={**client.bearer(), "Connection": "close"}, idle=idle)
        if resp.status_code != 401 or attempt == 2:
            break
        resp.close()
        client.forget_token()
    try:
        if resp.status_code == 401:
            raise LoginFailed(f"the backup API on {who} refused the API account's token")
        if resp.status_code == 403:
            raise BackupNotAllowed(
                f"the API account may not use the backup API on {who}: give it the backup "
                "permission under /login > Management > API Configuration, or use one that "
                "has it")
        if resp.status_code != 200:
            raise ApplianceError(f"the backup API on {who} answered HTTP {resp.status_code}")
        total = resp.headers.get("Content-Length")
        total_bytes = int(total) if total and total.isdigit() else None
        done = 0
        try:
            for block in resp.iter_content(BLOCK):
                sink.write(block)       # (the disk's OSError goes to the caller)
                done += len(block)
                if on_progress is not None:
                    on_progress(done, total_bytes)
        except requests.RequestException as exc:
            raise Unreachable(f"the backup download from {who} was cut short after {done} "
                              f"bytes ({exc.__class__.__name__})") from None
        if total_bytes is not None and done != total_bytes:
            raise Unreachable(f"the backup download from {who} was cut short: {done} of "
                              f"{total_bytes} bytes")
        if done == 0:
            raise ApplianceError(f"the backup API on {who} sent an empty backup")
        return done
    finally:
        resp.close()
