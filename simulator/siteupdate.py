"""The site's update file, as the vendor's portal offers it for download:
what an appliance without the site software installs offline.

Modelled (the format is the vendor's and not public): ``site-update.nsu``
(the extension is the simulator's choice), made of

    b"SIMNSU1\\n"                    magic
    one line of JSON, then b"\\n"     hostname, software_version, base_version,
                                     size and sha256 of the payload
    payload                          ``size`` bytes (the software itself)

``write`` makes one; ``read_header`` checks one without reading the payload
into memory, ``verify`` reads it whole (block by block) against its hash.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import BinaryIO

MAGIC = b"SIMNSU1\n"
EXTENSION = ".nsu"
BLOCK = 1 << 20


class NotAnUpdate(ValueError):
    """The file is not a site update this simulator can install."""


def write(path: str | Path, *, hostname: str, software_version: str, base_version: str,
          size: int = 2 << 20) -> Path:
    """A site update file at ``path`` (made whole under a temporary name)."""
    path = Path(path)
    block = hashlib.sha256(f"{hostname} {software_version}".encode()).digest() * (BLOCK // 32)
    digest = hashlib.sha256()
    left = size
    while left > 0:
        digest.update(block[:min(BLOCK, left)])
        left -= BLOCK
    header = {"format": 1, "hostname": hostname, "software_version": software_version,
              "base_version": base_version, "size": size, "sha256": digest.hexdigest()}
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as f:
        f.write(MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n")
        left = size
        while left > 0:
            f.write(block[:min(BLOCK, left)])
            left -= BLOCK
    os.chmod(tmp, 0o644)
    tmp.replace(path)
    return path


def read_header(stream: BinaryIO) -> dict:
    """The header of an update file; NotAnUpdate when it is not one."""
    if stream.read(len(MAGIC)) != MAGIC:
        raise NotAnUpdate("not a site update file")
    try:
        header = json.loads(stream.readline(64 * 1024))
        assert isinstance(header, dict) and header.get("format") == 1
    except (ValueError, AssertionError):
        raise NotAnUpdate("the site update file is damaged (its header cannot be read)") from None
    return header


def verify(stream: BinaryIO) -> dict:
    """The header, once the whole payload matched its size and hash;
    NotAnUpdate otherwise."""
    header = read_header(stream)
    digest, size = hashlib.sha256(), 0
    while block := stream.read(BLOCK):
        digest.update(block)
        size += len(block)
    if size != header.get("size") or digest.hexdigest() != header.get("sha256"):
        raise NotAnUpdate("the site update file is damaged (its contents do not match)")
    return header
