"""The lab's mail relay: aiosmtpd, as a site's relay is usually set up.

    python -m simulator.smtp_relay --bind ADDR --spool DIR --cert F --key F
                                   --user NAME --password-file F

Port 587: STARTTLS required, AUTH required and only after TLS. Port 465:
implicit TLS, AUTH required. Port 25: plain, no AUTH (for sheets with
encryption and auth "none"). Every accepted message is spooled as
DIR/NNNN.json: the port, whether the session was TLS, the user that logged in,
the envelope and the message. The password is read from a file (never argv)
and never written anywhere. Runs until SIGTERM.
"""
from __future__ import annotations

import argparse
import json
import signal
import ssl
import threading
from pathlib import Path


def _relay(args) -> list:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    password = Path(args.password_file).read_text().strip().encode()
    spool = Path(args.spool)
    spool.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == args.user.encode()
              and auth_data.password == password)
        return AuthResult(success=ok, auth_data=args.user if ok else None, handled=False)

    class Spool:
        def __init__(self, port: int):
            self.port = port

        async def handle_DATA(self, server, session, envelope):
            with lock:
                n = len(list(spool.glob("*.json"))) + 1
                # implicit TLS (465) shows on the transport, STARTTLS on the session
                tls = (session.ssl is not None
                       or server.transport.get_extra_info("ssl_object") is not None)
                record = {"port": self.port, "tls": tls,
                          "user": session.auth_data if session.authenticated else None,
                          "mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                          "data": envelope.content.decode("utf-8", "replace")}
                tmp = spool / f".{n:04d}.tmp"
                tmp.write_text(json.dumps(record, indent=2))
                tmp.replace(spool / f"{n:04d}.json")
            return "250 Message accepted for delivery"

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    controllers = [
        Controller(Spool(587), hostname=args.bind, port=587, tls_context=ctx,
                   require_starttls=True, authenticator=authenticator, auth_required=True,
                   auth_require_tls=True),
        Controller(Spool(465), hostname=args.bind, port=465, ssl_context=ctx,
                   authenticator=authenticator, auth_required=True, auth_require_tls=False),
        Controller(Spool(25), hostname=args.bind, port=25),
    ]
    for c in controllers:
        c.start()
    return controllers


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m simulator.smtp_relay")
    for flag in ("--bind", "--spool", "--cert", "--key", "--user", "--password-file"):
        p.add_argument(flag, required=True)
    args = p.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    controllers = _relay(args)
    print(json.dumps({"ready": True, "ports": [587, 465, 25]}), flush=True)
    stop.wait()
    for c in controllers:
        c.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
