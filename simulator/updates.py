"""Updates of the simulated /appliance interface: the site software.

A factory appliance has no site software (the /login side of a site is not
there yet). It gets it in one of two ways, both from this page:

- **from the vendor**: "Check for updates" asks the vendor's update server,
  which the appliance reaches only when the lab says so (``--update-server``,
  fault ``update_server``). The vendor offers the site package for the
  appliance's hostname only once the default certificate is a valid one for
  that name (documented); each offer is a row with an Install form;
- **offline**: an update file (simulator/siteupdate.py) uploaded as
  multipart/form-data, checked whole against its hash; it is refused when it
  is not one, is damaged, is for a name the default certificate does not
  cover, or is already installed.

Installing writes the site software into the /login state (login.json, with
a new site's first /login account) and then makes the appliance unavailable
for ``install_seconds`` (the ``reboot`` fault's silence: listeners closed,
sessions gone), as a real install stops every session for 15 to 60 minutes.
The seconds come from ``--install-seconds`` or the fault ``install_seconds``.

Paths and field names: the page map's ``[updates]`` (modelled). The handler
calls ``serve`` after it checked the session and, for a POST, the CSRF token.
"""
from __future__ import annotations

import datetime
import logging
import threading

from . import pages, siteupdate
from .appliance import Refused
from .pages import _csrf, _e, _table, _value

log = logging.getLogger("simulator.updates")
SITE_PACKAGE_SIZE = 2 << 20         # what the vendor's site package weighs (modelled)


def spec():
    return pages.PAGES["updates"]


def paths() -> set[str]:
    s = spec()
    return {s[k] for k in ("path", "check_action", "install_action", "upload_action")}


def installed(face) -> dict | None:
    """The site software the appliance holds ({"version", "hostname"}), or None."""
    return face.login_side.site_software() if face.login_side is not None else None


def _valid_default_for(face, hostname: str) -> bool:
    """The default certificate is one a client accepts for ``hostname``:
    not the factory one, covering the name, not expired."""
    default = face.certs.default() if face.certs is not None else None
    if default is None or default.factory or not hostname:
        return False
    return (default.covers(hostname)
            and default.expires > datetime.datetime.now(datetime.timezone.utc))


def offers(face) -> tuple[list[dict], str]:
    """What the vendor's update server offers this appliance now: (packages,
    its words). Refused when the appliance cannot reach it."""
    if not face.faults.update_server:
        raise Refused(["check: the appliance cannot reach the update server "
                       "(update.example.net:443: no route); upload an update file instead"])
    app = face.appliance
    hostname = app.snapshot()["hostname"]
    have = installed(face)
    if have and have.get("version") == app.software_version:
        return [], "This appliance is up to date."
    if not _valid_default_for(face, hostname):
        return [], (f"The update server offers no site package for "
                    f"{hostname or 'this appliance'}: it builds one only once the default "
                    "certificate is a valid one for the appliance's DNS name.")
    package = {"package": f"site-{app.software_version}-{hostname}", "description": "Site software",
               "version": app.software_version, "hostname": hostname,
               "size": f"{SITE_PACKAGE_SIZE / 1e6:.1f} MB"}
    return [package], "1 update is available."


def page(face, csrf: str, available: list[dict] | None, error: str = "", notice: str = "") -> str:
    s = spec()
    app = face.appliance
    have = installed(face) or {}
    state = (f"Site software {have.get('version', '?')} for {have.get('hostname', '?')} is "
             "installed." if have else "No site software is installed.")
    values = (_value("software_version", app.software_version, "Software version")
              + _value(s["site_version"], have.get("version", ""), "Site software")
              + _value(s["site_hostname"], have.get("hostname", ""), "Built for"))
    body = f"<table>{values}</table><p>{_e(state)}</p>"
    body += (f'<form method="post" action="{s["check_action"]}">{_csrf(csrf)}'
             '<button type="submit">Check for updates</button></form>')
    if available is not None:
        titles = {"package": "Package", "description": "Description", "version": "Version",
                  "hostname": "Built for", "size": "Size"}
        cols = list(s["available_columns"])
        body += "<h2>Available updates</h2>" + _table(
            s["available_table"], [titles.get(c, c) for c in cols],
            [[p[c] for c in cols] for p in available])
        body += "".join(
            f'<form method="post" action="{s["install_action"]}">{_csrf(csrf)}'
            f'<input type="hidden" name="{s["package"]}" value="{_e(p["package"])}">'
            f'<button type="submit">Install {_e(p["description"])} {_e(p["version"])}</button>'
            "</form>" for p in available)
    body += (f'<h2>Manual installation</h2><form method="post" action="{s["upload_action"]}" '
             f'enctype="multipart/form-data">{_csrf(csrf)}<p><label for="f-{s["file"]}">Update '
             f'file</label><input type="file" id="f-{s["file"]}" name="{s["file"]}"></p>'
             '<p>Installing stops every session; the appliance restarts.</p>'
             '<button type="submit">Upload and install</button></form>')
    return pages.layout("Updates", body, path=s["path"], error=error, notice=notice)


def install(face, version: str, hostname: str, source: str) -> float:
    """Install site software ``version`` built for ``hostname``, then restart:
    the appliance is silent for ``install_seconds`` from a moment after the
    answer has gone out. Returns those seconds."""
    face.login_side.install_site_software(version, hostname)
    seconds = face.faults.install_seconds
    log.info("site software %s for %s installed from %s; restarting for %.1f s", version,
             hostname, source, seconds)
    timer = threading.Timer(0.3, face.faults.apply, ("reboot", seconds))
    timer.daemon = True
    timer.start()
    return seconds


def _from_file(face, upload) -> tuple[str, str]:
    """(version, hostname) of an uploaded update file fit for this appliance;
    Refused otherwise (nothing installed)."""
    s = spec()
    if upload is None or upload.size == 0:
        raise Refused([f"{s['file']}: choose an update file to upload"])
    try:
        with open(upload.path, "rb") as f:
            header = siteupdate.verify(f)
    except siteupdate.NotAnUpdate as exc:
        raise Refused([f"{s['file']}: {exc}"]) from None
    hostname, version = str(header.get("hostname", "")), str(header.get("software_version", ""))
    if not _valid_default_for(face, hostname):
        raise Refused([f"{s['file']}: this site package is for {hostname}; the appliance installs "
                       f"it only with a valid certificate for {hostname} as its default "
                       "(Security > Certificates)"])
    have = installed(face)
    if have and have.get("version") == version and have.get("hostname") == hostname:
        raise Refused([f"{s['file']}: site software {version} for {hostname} is already "
                       "installed"])
    return version, hostname


def serve(handler, method: str, path: str, form: dict, session: dict) -> None:
    """Answer one request for the Updates page or its forms."""
    s, face, csrf = spec(), handler.face, session["csrf"]
    notice, session["notice"] = session["notice"], ""
    if method == "GET" and path == s["path"]:
        return handler._send(200, page(face, csrf, session.get("updates"), notice=notice))
    if method != "POST" or path == s["path"]:
        return handler._send(405, pages.plain("Not allowed", path, f"{method} is not allowed here."),
                             {"Allow": "GET" if path == s["path"] else "POST"})
    try:
        if path == s["check_action"]:
            found, words = offers(face)
            session["updates"] = found
            session["notice"] = words
        elif path == s["install_action"]:
            found, words = offers(face)
            chosen = next((p for p in found if p["package"] == form.get(s["package"], "")), None)
            if chosen is None:
                raise Refused([f"{s['package']}: the update server offers no such package "
                               f"({words})"])
            seconds = install(face, chosen["version"], chosen["hostname"], "the update server")
            session["updates"] = None
            session["notice"] = (f"Installing site software {chosen['version']}: the appliance "
                                 f"restarts and is back in about {seconds:.0f} s.")
        else:
            version, hostname = _from_file(face, handler.uploads.get(s["file"]))
            seconds = install(face, version, hostname, "an update file")
            session["notice"] = (f"Installing site software {version} from the update file: "
                                 f"the appliance restarts and is back in about {seconds:.0f} s.")
    except Refused as exc:
        return handler._send(200, page(face, csrf, session.get("updates"), error=str(exc)))
    face.faults.count_saved(method, path)
    return handler._redirect(s["path"])
