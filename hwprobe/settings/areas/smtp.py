"""E-mail: Security > Email Configuration, the sheet's optional ``[smtp]``.

The relay's password is never in a sheet: it is typed, or read from
BRINGUP_SMTP_PASSWORD, sent write-only and read back only as "a password is
held". The newer firmware's page has no authentication selector (a user name
filled in means a login) and encrypts with SSL, TLS or nothing.
"""
from __future__ import annotations

from dataclasses import replace

from hwprobe.constants import ENV_SMTP_PASSWORD
from hwprobe.settings import validate as v
from hwprobe.settings.area import (Area, Change, FieldWords as F, Key, Limit, Secret, Table, choice,
                                   listed)
from hwprobe.appliance.section import YES
from hwprobe.appliance.state import ApplianceState, Settings, SmtpSettings

ORDER = 60
SECTION = "smtp"
ENCRYPTIONS = {"tls": "TLS", "starttls": "STARTTLS", "ssl": "SSL", "none": "no encryption"}


# --- the sheet -------------------------------------------------------------------------------

def _check(doc: dict, good: dict, problems, areas) -> None:
    smtp, raw = good.get("smtp", {}), doc.get("smtp")
    if isinstance(raw, dict):
        if smtp.get("auth") == "password" and "username" not in raw:
            problems.add(("smtp", "username"), 'missing; auth = "password" needs a username',
                         line=problems.line(("smtp", "auth")))
        if smtp.get("auth") == "none" and "username" in raw:
            problems.add(("smtp", "username"), 'is not used with auth = "none"; remove it '
                         'or set auth = "password"')


def _load(s: dict, out: Settings) -> None:
    out.smtp = SmtpSettings(
        relay=s["relay"], port=s["port"], encryption=s["encryption"], auth=s["auth"],
        username=s.get("username", ""), from_address=s["from_address"],
        admin_contacts=list(s["admin_contacts"]))


def _dump(s: Settings, w) -> list[str]:
    smtp = s.smtp
    if smtp is None:
        return []
    out = ["", w.header("smtp"), *w.key("relay", smtp.relay), *w.key("port", smtp.port),
           *w.key("encryption", smtp.encryption,
                  "tls | starttls | ssl | none" if w.format == 2 else "tls | starttls | none"),
           *w.key("auth", smtp.auth, "none | password")]
    out += w.key("username", smtp.username) if smtp.username or smtp.auth == "password" else []
    if smtp.password_set:
        out += [f"# the appliance holds an SMTP password: give it with {ENV_SMTP_PASSWORD}"]
    return out + [*w.key("from_address", smtp.from_address),
                  *w.key("admin_contacts", list(smtp.admin_contacts),
                         w.most("smtp", "admin_contacts"))]


TABLE = Table(
    "smtp", {
        "relay": Key("str", True, v.check_server),
        "port": Key("int", True, v.check_port),
        "encryption": Key("str", True, lambda x: v.check_choice(x, ("tls", "starttls", "none"))),
        "auth": Key("str", True, lambda x: v.check_choice(x, ("none", "password"))),
        "username": Key("str", False, lambda x: "is empty" if x == "" else None),
        "from_address": Key("str", True, v.check_email),
        "admin_contacts": Key("list", True, v.check_email),
    }, load=_load, dump=_dump, check=_check,
    format2={"encryption": Key("str", True,
                               lambda x: v.check_choice(x, ("tls", "starttls", "ssl", "none")))},
    # e-mail encryption "ssl" is the newer firmware's
    format=lambda s: 2 if s.smtp is not None and s.smtp.encryption == "ssl" else 1,
    ready="SMTP ([smtp])", ready_when=lambda s: s.smtp is not None)


# --- the steps -------------------------------------------------------------------------------

def smtp_json(s: SmtpSettings | None) -> dict | None:
    if s is None:
        return None
    return {
        "relay": s.relay, "port": s.port, "encryption": s.encryption, "auth": s.auth,
        "username": s.username if s.auth == "password" else "",
        "from_address": s.from_address, "admin_contacts": list(s.admin_contacts),
    }


def _words(value) -> str:
    if not value or not value.get("relay"):
        return "none"
    login = (f"login {value['username']} with a password" if value.get("auth") == "password"
             else "no login")
    enc = ENCRYPTIONS.get(value.get("encryption", ""), value.get("encryption", ""))
    return (f"relay {value['relay']}:{value['port']}, {enc}, {login}, "
            f"from {value.get('from_address') or 'none'}, "
            f"admin {listed(value.get('admin_contacts'))}")


def _read(section, state: ApplianceState) -> None:
    port = section.field("port").strip()
    password_set = section.value("password_set")
    if password_set is None:
        password_set = section.field("password_set")
    state.smtp = SmtpSettings(
        relay=section.field("relay").strip(),
        port=int(port) if port.isascii() and port.isdigit() else 0,
        encryption=section.field("encryption").strip().lower(),
        # the newer layout has no authentication selector: a user name means a login
        auth=(section.field("auth").strip().lower() if section.has("auth")
              else "password" if section.field("username").strip() else "none"),
        username=section.field("username").strip(),
        from_address=section.field("from_address").strip(),
        admin_contacts=section.lines("admin_contacts"),
        password_set=password_set.strip().lower() in YES,
    )


def _send(driver, c: Change) -> None:
    """The whole form; no password given (or "") keeps the one the appliance holds."""
    smtp = c.settings.smtp
    password = c.smtp_password if smtp.auth == "password" else None
    spec = driver.layout(SECTION)
    values = {
        "relay": smtp.relay, "port": smtp.port, "encryption": smtp.encryption,
        # the newer layout has no selector: a user name left blank means no login
        "username": smtp.username if smtp.auth == "password" or "auth" in spec else "",
        "from_address": smtp.from_address, "admin_contacts": list(smtp.admin_contacts),
        "password": password or "",
    }
    if "auth" in spec:
        values["auth"] = smtp.auth
    driver.save(SECTION, values)


def _fits(s: Settings, profile) -> list[str]:
    if s.smtp is None or s.smtp.encryption in profile["smtp_encryption"]:
        return []
    return [f"this appliance's e-mail encryption is {', '.join(profile['smtp_encryption'])}; "
            f"the sheet asks for {s.smtp.encryption} ([smtp].encryption)"]


def _capture(state: ApplianceState, out: Settings) -> None:
    # no relay: e-mail is not set up on the appliance, and an [smtp] table
    # without one would not load; left out, so apply leaves e-mail alone
    smtp = replace(state.smtp, password_set=False) if state.smtp and state.smtp.relay else None
    if smtp is not None and smtp.auth != "password":
        smtp.username = ""
    out.smtp = smtp


ROWS = (
    Area("smtp", SECTION, "smtp", "E-mail", "E-mail",
         wanted=lambda s: [("smtp", smtp_json(s.smtp))] if s.smtp is not None else [],
         present=lambda st, k: smtp_json(st.smtp), read=_read, send=_send, describe=_words,
         absent="not in the sheet", capture=_capture, fits=_fits,
         fields=(F("relay", "Relay"), F("port", "Port"),
                 F("encryption", "Encryption", choice(ENCRYPTIONS)),
                 F("auth", "Login", choice({"none": "none", "password": "user name and password"})),
                 F("username", "User name"), F("from_address", "From address"),
                 F("admin_contacts", "Admin contacts", many=True)),
         secret=Secret("SMTP password", wanted=lambda s: bool(s.smtp and s.smtp.auth == "password"),
                       held=lambda st: bool(st.smtp and st.smtp.password_set)),
         limits=(Limit("admin_contacts", "max_admin_contacts", "addresses"),)),
)
