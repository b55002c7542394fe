"""HTML of the simulated /appliance web interface.

Every path, field name, id and class comes from the page map (see the header
of hwprobe/appliance/pagemap.toml for the conventions the drivers rely on). Pages are
plain HTML with no script: what a technician sees in a browser is what the web
driver parses. Values in the address table's vlan cell are empty when the
address has no VLAN; delete buttons live in small forms under each table, never
in its cells.
"""
from __future__ import annotations

from html import escape

from hwprobe.appliance.pagemap import PAGES

C = PAGES["common"]     # PAGES and C are rebound by simulator.web.use_pages (firmware profile)
STYLE = """
body{font-family:sans-serif;margin:0;color:#222}
header{background:#1d3557;color:#fff;padding:.5em 1em}
nav{background:#e9eef4;padding:.3em 1em}nav ul{list-style:none;margin:0;padding:0}
nav li{display:inline-block;margin-right:1.5em}nav span{font-weight:bold}
main{padding:1em}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.2em .6em}
.error{color:#a00;border:1px solid #a00;padding:.4em}.notice{color:#060;border:1px solid #060;padding:.4em}
label{display:inline-block;min-width:12em}form{margin:.6em 0}fieldset{margin:1em 0}
"""


def _e(value) -> str:
    return escape("" if value is None else str(value), quote=True)


def _csrf(token: str) -> str:
    return f'<input type="hidden" name="{C["csrf_field"]}" value="{_e(token)}">'


def _input(name: str, value="", label: str = "", kind: str = "text") -> str:
    return (f'<p><label for="f-{name}">{_e(label or name)}</label>'
            f'<input type="{kind}" id="f-{name}" name="{name}" value="{_e(value)}"></p>')


def _textarea(name: str, lines, label: str) -> str:
    text = "\n".join(lines) if not isinstance(lines, str) else lines
    return (f'<p><label for="f-{name}">{_e(label)}</label>'
            f'<textarea id="f-{name}" name="{name}" rows="4" cols="40">{_e(text)}</textarea>'
            f'<br><small>one per line</small></p>')


def _select(name: str, options, selected, label: str) -> str:
    opts = "".join(
        f'<option value="{_e(v)}"{" selected" if str(v) == str(selected) else ""}>{_e(t)}</option>'
        for v, t in options)
    return f'<p><label for="f-{name}">{_e(label)}</label><select id="f-{name}" name="{name}">{opts}</select></p>'


def _form(action: str, csrf: str, body: str, button: str, legend: str = "") -> str:
    inner = f"{_csrf(csrf)}{body}<button type=\"submit\">{_e(button)}</button>"
    if legend:
        inner = f"<fieldset><legend>{_e(legend)}</legend>{inner}</fieldset>"
    return f'<form method="post" action="{action}">{inner}</form>'


def _value(name: str, value, label: str) -> str:
    return f'<tr><th>{_e(label)}</th><td><span id="{name}">{_e(value)}</span></td></tr>'


def _table(table_id: str, headers, rows) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _nav(current: str) -> str:
    sections = []
    for section, entries in PAGES["menu"].items():
        links = []
        for title, key in entries:
            page = PAGES[key]
            path = page.get("path") or page["page"]
            mark = ' aria-current="page"' if path == current else ""
            links.append(f'<a href="{path}"{mark}>{_e(title)}</a>')
        sections.append(f"<li><span>{_e(section)}</span>: {' | '.join(links)}</li>")
    logout = f'<li><a href="{PAGES["logout"]["path"]}">Log out</a></li>'
    return f"<nav><ul>{''.join(sections)}{logout}</ul></nav>"


def layout(title: str, body: str, *, path: str = "", nav: bool = True,
           error: str = "", notice: str = "") -> str:
    """A whole page: header, menu (when logged in), message and body."""
    msg = ""
    if error:
        msg += f'<p class="{C["error_class"]}">{_e(error)}</p>'
    if notice:
        msg += f'<p class="{C["notice_class"]}">{_e(notice)}</p>'
    return (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
        f"<title>{_e(title)} - B Series Appliance</title><style>{STYLE}</style></head><body>"
        "<header><strong>B Series Appliance</strong> /appliance</header>"
        f"{_nav(path) if nav else ''}<main><h1>{_e(title)}</h1>{msg}{body}</main></body></html>"
    )


# --- the pages ---------------------------------------------------------------

def login(csrf: str, error: str = "", notice: str = "") -> str:
    p = PAGES["login"]
    body = _form(p["path"], csrf,
                 _input(p["username"], "", "User name") + _input(p["password"], "", "Password", "password"),
                 "Login")
    return layout("Login", body, path=p["path"], nav=False, error=error, notice=notice)


def change_password(csrf: str, forced: bool, error: str = "", notice: str = "") -> str:
    p = PAGES["change_password"]
    intro = ("<p class=\"info\">Password change required: the factory password must be "
             "changed before any other page opens.</p>") if forced else ""
    rule = ("<p><small>At least 8 characters with an upper-case letter, a lower-case letter, "
            "a digit and a symbol, not containing the user name.</small></p>")
    body = intro + rule + _form(
        p["path"], csrf,
        _input(p["current"], "", "Current password", "password")
        + _input(p["new"], "", "New password", "password")
        + _input(p["confirm"], "", "Confirm new password", "password"),
        "Change password")
    return layout("Change Password", body, path=p["path"], nav=not forced, error=error, notice=notice)


def basics(st: dict, system_time: str, csrf: str, form: dict, error: str, notice: str) -> str:
    p, n = PAGES["status_basics"], PAGES["ntp"]
    values = {"model": st["model"], "serial": st["serial"],
              "software_version": st["software_version"], "base_version": st["base_version"],
              "system_time": system_time}
    labels = {"model": "Model", "serial": "Serial number", "software_version": "Software version",
              "base_version": "Base software version", "system_time": "System time"}
    table = "<table>" + "".join(_value(k, values[k], labels.get(k, k)) for k in p["values"]) + "</table>"
    ntp = _form(n["action"], csrf,
                _textarea(n["servers"], form.get(n["servers"], st["ntp_servers"]), "NTP servers"),
                "Save", "Time (NTP)")
    return layout("Basics", table + ntp, path=p["path"], error=error, notice=notice)


def health(st: dict, uptime: int, csrf: str, form: dict, error: str, notice: str) -> str:
    p = PAGES["status_health"]
    hours, rest = divmod(uptime, 3600)
    links = ", ".join(f"{n['nic']} {'up' if n['link'] else 'down'}" for n in st["nics"])
    body = ("<table>" + _value("health", "OK", "Overall health")
            + _value("uptime", f"{hours}h {rest // 60}m {rest % 60}s", "Uptime")
            + _value("links", links, "Links") + _value("disk", "23% used", "Disk")
            + _value("temperature", "41 C", "Temperature") + "</table>")
    return layout("Health", body, path=p["path"], error=error, notice=notice)


def users(st: dict, csrf: str, form: dict, error: str, notice: str) -> str:
    p = PAGES["users"]
    rows = [(u["name"], "administrator", "yes" if u["must_change"] else "no") for u in st["users"]]
    body = (_table("users", ["user", "role", "password change required"], rows)
            + f'<p><a href="{PAGES["change_password"]["path"]}">Change password</a></p>')
    return layout("Users", body, path=p["path"], error=error, notice=notice)


NIC_OPTIONS = [("nic1", "NIC1"), ("nic2", "NIC2")]


def ip_config(st: dict, csrf: str, form: dict, error: str, notice: str) -> str:
    p, g = PAGES["ip_config"], PAGES["global_config"]
    nics = _table(p["nic_table"], ["NIC", "MAC address", "Link detected"],
                  [(n["nic"], n["mac"], "yes" if n["link"] else "no") for n in st["nics"]])
    rows = [(ip["nic"], ip["address"], ip["netmask"], "" if ip["vlan"] is None else ip["vlan"])
            for ip in st["ips"]]
    addresses = _table(p["address_table"], ["NIC", "Address", "Netmask", "VLAN"], rows)
    deletes = "".join(
        f'<li><form method="post" action="{p["delete_action"]}" style="display:inline">{_csrf(csrf)}'
        f'<input type="hidden" name="{p["nic"]}" value="{_e(ip["nic"])}">'
        f'<input type="hidden" name="{p["address"]}" value="{_e(ip["address"])}">'
        f'<button type="submit">Delete {_e(ip["nic"])} {_e(ip["address"])}</button></form></li>'
        for ip in st["ips"])
    add = _form(p["add_action"], csrf,
                _select(p["nic"], NIC_OPTIONS, form.get(p["nic"], "nic1"), "NIC")
                + _input(p["address"], form.get(p["address"], ""), "IP address")
                + _input(p["netmask"], form.get(p["netmask"], ""), "Netmask")
                + _input(p["vlan"], form.get(p["vlan"], ""), "VLAN (optional, 1-4094)"),
                "Add", "Add New IP")
    glob = _form(g["action"], csrf,
                 _input(g["hostname"], form.get(g["hostname"], st["hostname"]), "Hostname")
                 + _input(g["default_gateway"], form.get(g["default_gateway"], st["default_gateway"]),
                          "Default gateway")
                 + _textarea(g["dns_servers"], form.get(g["dns_servers"], st["dns_servers"]),
                             f"DNS servers (up to {g['max_dns_servers']})"),
                 "Save", "Global Configuration")
    m = PAGES["ip_modes"]["fields"]
    modes = ("<table>" + _value(m[0], "static", "NIC1 address settings (static or DHCP)")
             + _value(m[1], "static", "NIC2 address settings (static or DHCP)")
             + _value(m[2], "off", "NIC teaming") + "</table>")
    body = (f"<h2>NICs</h2>{nics}{modes}<h2>IP addresses</h2>{addresses}<ul>{deletes}</ul>"
            f"{add}{glob}")
    return layout("IP Configuration", body, path=p["path"], error=error, notice=notice)


def routes(st: dict, csrf: str, form: dict, error: str, notice: str) -> str:
    p = PAGES["routes"]
    table = _table(p["table"], ["Destination", "Gateway", "NIC"],
                   [(r["destination"], r["gateway"], r["nic"]) for r in st["routes"]])
    deletes = "".join(
        f'<li><form method="post" action="{p["delete_action"]}" style="display:inline">{_csrf(csrf)}'
        f'<input type="hidden" name="{p["destination"]}" value="{_e(r["destination"])}">'
        f'<button type="submit">Delete route to {_e(r["destination"])}</button></form></li>'
        for r in st["routes"])
    add = _form(p["add_action"], csrf,
                _input(p["destination"], form.get(p["destination"], ""), "Destination (CIDR)")
                + _input(p["gateway"], form.get(p["gateway"], ""), "Gateway")
                + _select(p["nic"], NIC_OPTIONS, form.get(p["nic"], "nic1"), "NIC"),
                "Add", "Add Static Route")
    return layout("Static Routes", f"{table}<ul>{deletes}</ul>{add}", path=p["path"],
                  error=error, notice=notice)


def _admin_settings(st: dict) -> str:
    """Appliance Administration's other documented settings, read-only here."""
    a = PAGES["admin_settings"]
    adm = st.get("admin", {})
    labels = ("Failed login limit", "Lockout duration", "Password expiry",
              "Accepted networks", "Rejected networks")
    rows = "".join(_value(name, adm.get(name, ""), label)
                   for name, label in zip(a["fields"], labels))
    return f"<h2>Login security</h2><table>{rows}</table>"


def syslog(st: dict, csrf: str, form: dict, error: str, notice: str) -> str:
    p = PAGES["syslog"]
    names = {"rfc5424": "RFC 5424", "bsd": "Legacy BSD", "tls": "Syslog over TLS (RFC 5425)"}
    choices = [(f, names.get(f, f)) for f in p["formats"]]
    if "slots" in p:         # the newer layout: each server its own port and format
        targets = st["syslog_targets"]
        body = ""
        for n in range(1, p["slots"] + 1):
            t = targets[n - 1] if n <= len(targets) else {}
            key = {k: p[k].format(n=n) for k in ("server", "port", "format", "certificate")}
            default = t.get("format", st["syslog_format"])
            body += (f"<fieldset><legend>Syslog server {n}</legend>"
                     + _input(key["server"], form.get(key["server"], t.get("server", "")),
                              "Hostname or address")
                     + _input(key["port"], form.get(key["port"], t.get("port", "")), "Port")
                     + _select(key["format"], choices, form.get(key["format"], default),
                               "Message format")
                     + "<table>" + _value(key["certificate"], t.get("certificate") or "none",
                                          "Trusted certificate (TLS)") + "</table></fieldset>")
        forms = _form(p["action"], csrf, body, "Save", "Syslog")
    else:
        forms = _form(p["action"], csrf,
                      _textarea(p["servers"], form.get(p["servers"], st["syslog_servers"]),
                                f"Syslog servers (up to {p['max_servers']})")
                      + _select(p["format"], choices,
                                form.get(p["format"], st["syslog_format"]), "Format"),
                      "Save", "Syslog")
    return layout("Appliance Administration", _admin_settings(st) + forms, path=p["page"],
                  error=error, notice=notice)


def email(st: dict, csrf: str, form: dict, error: str, notice: str) -> str:
    p, s = PAGES["smtp"], st["smtp"]

    def v(key: str, current):
        return form.get(p[key], current)

    names = {"tls": "TLS", "starttls": "STARTTLS", "ssl": "SSL", "none": "None"}
    body = ("<table>" + _value(p["password_set"], "yes" if s["password_set"] else "no",
                               "SMTP password set") + "</table>")
    auth = ""
    if "auth" in p:          # the older layout has an authentication selector
        auth = _select(p["auth"], [("none", "None"), ("password", "User name and password")],
                       v("auth", s["auth"]), "Authentication")
    checks = ""
    if "test_on_save" in p:  # the newer layout: a test e-mail goes out when saved
        checks = (f'<p><label for="f-{p["test_on_save"]}">Send a test email when saved</label>'
                  f'<input type="checkbox" id="f-{p["test_on_save"]}" name="{p["test_on_save"]}"'
                  f' value="1"></p>'
                  f'<p><label for="f-{p["daily_notice"]}">Daily communication notice</label>'
                  f'<input type="checkbox" id="f-{p["daily_notice"]}" name="{p["daily_notice"]}"'
                  f' value="1"{" checked" if s.get("daily_notice") else ""}></p>')
    body += _form(p["action"], csrf,
                  _input(p["relay"], v("relay", s["relay"]), "SMTP relay")
                  + _input(p["port"], v("port", s["port"]), "Port")
                  + _select(p["encryption"], [(e, names.get(e, e)) for e in p["encryptions"]],
                            v("encryption", s["encryption"]), "Encryption")
                  + auth
                  + _input(p["username"], v("username", s["username"]), "User name")
                  + _input(p["password"], "", "Password (blank keeps the current one)", "password")
                  + _input(p["from_address"], v("from_address", s["from_address"]), "From address")
                  + _textarea(p["admin_contacts"], v("admin_contacts", s["admin_contacts"]),
                              "Admin contacts") + checks,
                  "Save", "Email Configuration")
    if "test_action" in p:
        body += _form(p["test_action"], csrf, "", "Send test email")
    return layout("Email Configuration", body, path=p["page"], error=error, notice=notice)


# Pages bringup does not set, with the fields the /appliance guide documents
# (values are the simulator's own; ids are the page map's "fields").
DOCUMENTED = {
    "tls_config": ("TLS Configuration", {
        "tls_versions": "TLS 1.2, TLS 1.3", "cipher_suites": "default (recommended) set"}),
    "secret_store": ("Secret Store", {"secret_store_status": "local (on the appliance)"}),
    "snmp": ("SNMP", {"snmp_enabled": "no", "snmp_version": "v2c",
                      "snmp_community": "(not set)", "snmp_allowed_networks": "(none)"}),
    "storage": ("Storage", {"storage_status": "healthy, 23% used",
                            "storage_encryption": "enabled"}),
    "advanced_support": ("Advanced Support", {
        "support_tunnel": "not connected",
        "support_code": "enter the code BeyondTrust Technical Support gives you"}),
}


def documented(key: str, csrf: str, form: dict, error: str, notice: str) -> str:
    """One of the documented pages bringup only reads (survey)."""
    title, values = DOCUMENTED[key]
    spec = PAGES[key]
    rows = "".join(_value(name, values.get(name, ""), name.replace("_", " ").capitalize())
                   for name in spec["fields"])
    return layout(title, f"<table>{rows}</table>", path=spec["path"], error=error, notice=notice)


def plain(title: str, path: str, text: str, *, error: str = "", notice: str = "", nav=True) -> str:
    return layout(title, f"<p>{_e(text)}</p>", path=path, nav=nav, error=error, notice=notice)
