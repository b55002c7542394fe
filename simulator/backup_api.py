"""``/api/backup``: the /login backup through the API, as the vendor documents it.

Documented: ``https://SITE/api/backup``, GET or POST, an OAuth bearer token
(client credentials at ``/oauth2/token``) of an API account that has the
backup permission, and the backup password, if any, in the body as
``{"password": "..."}``. Modelled (not found publicly): the answer's content
type (application/octet-stream), its file name (Content-Disposition), the
error bodies (the command API's ``<error>``), and the file itself (an NSB of
the simulator's own making, simulator/nsb.py, holding this appliance's /login
state, encrypted with that password).

    401  no token, or one that is not valid (answered by login_api)
    403  an API account without the backup permission
    400  a body that is not JSON, or a password that is not a string
    200  the NSB, streamed chunk by chunk with its length

The fault switches ``large_backup`` (bytes of logged session data to add)
and ``backup_rate`` (bytes per second to send at most) make it large or slow
on purpose: the bench's 1 GB, a download killed halfway.
"""
from __future__ import annotations

import json
import logging
import time

from . import nsb

log = logging.getLogger("simulator.backup")


def serve_backup(login, handler, client: str, params: dict) -> None:
    """Answer one /api/backup request of API account ``client``."""
    if "backup" not in login.permissions(client):
        return login._reply(handler, 403, login._xml_error(
            "This API account does not have permission to use the backup API."), "text/xml")
    password = params.get("password", "")
    body = getattr(handler, "body", b"").strip()
    if body[:1] == b"{" or body[:1] == b"[" or (body and not params.get("password")):
        try:
            sent = json.loads(body)
            password = sent.get("password", "") if isinstance(sent, dict) else None
        except ValueError:
            password = None
        if not isinstance(password, str):
            return login._reply(handler, 400, login._xml_error(
                'The body must be JSON: {"password": "..."}.'), "text/xml")
    faults = handler.server.face.faults
    snap = login.appliance.snapshot()
    about = {"software_version": snap["software_version"],
             "base_version": snap.get("base_version", ""),
             "serial": snap["serial"], "hostname": snap["hostname"]}
    writer = nsb.Writer(login.login_state(), password, padding=faults.backup_padding, about=about)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    name = f"backup-{snap['hostname'] or snap['serial']}-{stamp}.nsb"
    handler.send_response(200)
    handler.send_header("Content-Type", "application/octet-stream")
    handler.send_header("Content-Length", str(writer.size))
    handler.send_header("Content-Disposition", f'attachment; filename="{name}"')
    handler.send_header("Cache-Control", "no-store")
    handler.send_header("Connection", "close")
    handler.close_connection = True
    handler.end_headers()
    rate = faults.backup_rate
    started, sent = time.monotonic(), 0
    try:
        for piece in writer:
            handler.wfile.write(piece)
            sent += len(piece)
            if rate:
                ahead = sent / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
    except OSError as exc:          # the client went away halfway: nothing to clean up
        log.info("backup download ended after %d of %d bytes: %s", sent, writer.size, exc)
        return
    log.info("backup of %d bytes sent to API account %r", writer.size, client)
