"""Security > Certificates of the simulated /appliance interface: the list,
Export (a PKCS#12 file) and Import (a multipart upload), and making one
certificate the default. Every path and field name comes from the page
map's ``[certificates]`` section (read at call time: ``simulator.web.use_pages``
rebinds ``pages.PAGES`` for a firmware profile).

The handler calls ``serve`` after it has checked the session and, for a
POST, the CSRF token; an uploaded file is already on disk
(``handler.uploads``, simulator/multipart.py).
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from . import pages
from .appliance import Refused
from .pages import _csrf, _e, _input


def spec():
    return pages.PAGES["certificates"]


def paths() -> set[str]:
    """Every path of the certificate pages."""
    s = spec()
    return {s[k] for k in ("path", "export_page", "export_action", "import_page",
                           "import_action", "default_action")}


def _row(s, held) -> list[str]:
    values = {"friendly_name": held.friendly_name, "subject": held.subject,
              "alternative_names": s["alternative_names_separator"].join(held.alternative_names),
              "issuer": held.issuer, "expires": held.expires.strftime(s["expires_format"]),
              "default": s["default_mark"] if held.default else "", "sha256": held.id}
    return [values[c] for c in s["columns"]]


def list_page(store, csrf: str, error: str = "", notice: str = "") -> str:
    s = spec()
    titles = {"friendly_name": "Friendly name", "subject": "Subject",
              "alternative_names": "Alternative names", "issuer": "Issuer",
              "expires": "Expires", "default": "Default", "sha256": "SHA-256 fingerprint"}
    head = "".join(f"<th>{_e(titles.get(c, c))}</th>" for c in s["columns"])
    rows = ""
    for held in store.held():
        cells = _row(s, held)
        tick = (f'<input type="checkbox" name="{s["select"]}" value="{_e(held.id)}" '
                f'id="tick-{_e(held.id[:16])}"> ')
        rows += "<tr>" + "".join(
            f"<td>{tick if c == 'friendly_name' else ''}{_e(v)}</td>"
            for c, v in zip(s["columns"], cells)) + "</tr>"
    table = f'<table id="{s["table"]}"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
    body = (f'<form method="get" action="{s["export_page"]}">{table}'
            '<p><button type="submit">Export</button></p></form>'
            f'<p><a href="{s["import_page"]}">Import</a></p>')
    defaults = "".join(
        f'<li><form method="post" action="{s["default_action"]}" style="display:inline">'
        f'{_csrf(csrf)}<input type="hidden" name="{s["select"]}" value="{_e(h.id)}">'
        f'<button type="submit">Make default: {_e(h.friendly_name)}</button></form></li>'
        for h in store.held() if not h.default)
    if defaults:
        body += f"<h2>Default certificate</h2><ul>{defaults}</ul>"
    return pages.layout("Certificates", body, path=s["path"], error=error, notice=notice)


def _checkbox(name: str, label: str, checked: bool) -> str:
    return (f'<p><label for="f-{name}">{_e(label)}</label><input type="checkbox" id="f-{name}" '
            f'name="{name}" value="1"{" checked" if checked else ""}></p>')


def export_page(held, csrf: str, error: str = "") -> str:
    s = spec()
    info = (f"<p>{_e(held.friendly_name)}: {_e(held.subject)}, issued by {_e(held.issuer)}, "
            f"expires {_e(held.expires.strftime(s['expires_format']))}.</p>"
            "<p>A passphrase is strongly recommended when the private key is exported.</p>")
    form = (f'<form method="post" action="{s["export_action"]}">{_csrf(csrf)}'
            f'<input type="hidden" name="{s["select"]}" value="{_e(held.id)}">'
            + _checkbox(s["include_certificate"], "Certificate", True)
            + _checkbox(s["include_key"], "Private key", False)
            + _checkbox(s["include_chain"], "Certificate chain", False)
            + _input(s["passphrase"], "", "Passphrase", "password")
            + _input(s["passphrase_confirm"], "", "Confirm passphrase", "password")
            + '<button type="submit">Export</button></form>')
    return pages.layout("Export Certificate", info + form, path=s["path"], error=error)


def import_page(csrf: str, error: str = "") -> str:
    s = spec()
    form = (f'<form method="post" action="{s["import_action"]}" enctype="multipart/form-data">'
            f'{_csrf(csrf)}<p><label for="f-{s["file"]}">Certificate file</label>'
            f'<input type="file" id="f-{s["file"]}" name="{s["file"]}"></p>'
            + _input(s["password"], "", "Password", "password")
            + '<button type="submit">Upload</button></form>')
    return pages.layout("Import Certificate", form, path=s["path"], error=error)


def _download(handler, name: str, data: bytes) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/x-pkcs12")
    handler.send_header("Content-Disposition", f'attachment; filename="{name}"')
    handler.send_header("Content-Length", str(len(data)))
    handler.send_header("Cache-Control", "no-store")
    handler.end_headers()
    handler.wfile.write(data)


def serve(handler, method: str, path: str, form: dict, session: dict) -> None:
    """Answer one request for a certificate page (session and CSRF checked)."""
    s, store, csrf = spec(), handler.face.certs, session["csrf"]
    notice, session["notice"] = session["notice"], ""
    if method == "GET" and path == s["path"]:
        return handler._send(200, list_page(store, csrf, notice=notice))
    if method == "GET" and path == s["export_page"]:
        query = parse_qs(urlsplit(handler.path).query)
        ticked = query.get(s["select"], [])
        held = store.get(ticked[0]) if len(ticked) == 1 else None
        if held is None:
            why = "tick one certificate to export" if len(ticked) != 1 else "no such certificate"
            return handler._send(200, list_page(store, csrf, error=f"{s['select']}: {why}"))
        return handler._send(200, export_page(held, csrf))
    if method == "GET" and path == s["import_page"]:
        return handler._send(200, import_page(csrf))
    if method != "POST" or path == s["path"]:
        return handler._send(405, pages.plain("Not allowed", path, f"{method} is not allowed here."),
                             {"Allow": "GET" if path in (s["path"], s["export_page"],
                                                        s["import_page"]) else "POST"})
    if path == s["export_action"]:
        return _export(handler, store, form, csrf)
    if path == s["import_action"]:
        upload = handler.uploads.get(s["file"])
        try:
            if upload is None or upload.size == 0:
                raise Refused([f"{s['file']}: choose a certificate file to upload"])
            if upload.size > 1 << 20:
                raise Refused([f"{s['file']}: not a certificate file (too large)"])
            cert_id = store.import_file(upload.path.read_bytes(), form.get(s["password"], ""))
        except Refused as exc:
            return handler._send(200, import_page(csrf, str(exc)))
        handler.face.faults.count_saved(method, path)
        session["notice"] = f"Certificate imported: {store.get(cert_id).friendly_name}."
        return handler._redirect(s["path"])
    try:                                            # the default action
        store.set_default(form.get(s["select"], ""))
    except Refused as exc:
        return handler._send(200, list_page(store, csrf, error=str(exc)))
    handler.face.faults.count_saved(method, path)
    session["notice"] = f"Default certificate: {store.default().friendly_name}."
    return handler._redirect(s["path"])


def _export(handler, store, form: dict, csrf: str) -> None:
    s = spec()
    held = store.get(form.get(s["select"], ""))
    if held is None:
        return handler._send(200, list_page(store, csrf, error=f"{s['select']}: tick one "
                                                               "certificate to export"))
    passphrase = form.get(s["passphrase"], "")
    if passphrase != form.get(s["passphrase_confirm"], ""):
        return handler._send(200, export_page(
            held, csrf, f"{s['passphrase_confirm']}: the two passphrases differ"))
    try:
        name, data = store.export(held.id, certificate=bool(form.get(s["include_certificate"])),
                                  private_key=bool(form.get(s["include_key"])),
                                  chain=bool(form.get(s["include_chain"])), passphrase=passphrase)
    except Refused as exc:
        return handler._send(200, export_page(held, csrf, str(exc)))
    _download(handler, name, data)
