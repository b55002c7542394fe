"""Hardware failure and RMA: the request form, FRU eligibility, and deadlines.

``RmaRequest`` holds what the vendor's support asks for. ``check()`` lists every
problem (field, message) at once; ``eligibility()`` says whether a failed part
can be shipped as a field-replaceable unit (B300/B400: disk and power supply)
or the whole unit must go back; ``write_request()`` writes a ready-to-send
request as Markdown and JSON; ``mark_operational()`` records the date the
replacement went live and the return deadline two weeks later, and
``return_warning()`` says it with the procedure's list-price warning;
``shipping_note()`` says how the failed unit goes back (US label, DHL, WEEE).
An international replacement outside Ireland and the EU needs documented
consent to pay VAT fees (``vat_consent``).

The procedure's facts are modelled here, in one place: FRU_PARTS,
RETURN_DAYS, REPAIR_WEEKS.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hwprobe.fsutil import atomic_write
from hwprobe.settings.validate import check_email

FRU_PARTS = {"B300": ("disk", "power supply"), "B400": ("disk", "power supply")}
PARTS = ("disk", "power supply", "motherboard", "memory", "network card", "other")
RETURN_DAYS = 14            # return the failed unit within two weeks of going live
REPAIR_WEEKS = 4            # international repair-and-return: up to four weeks
INTERNATIONAL_CHOICES = ("repair_and_return", "replace")
US_NAMES = {"us", "usa", "united states", "united states of america"}
# replacements for Ireland and the EU ship from Ireland: no VAT fees expected
EU_NAMES = {"ireland", "austria", "belgium", "bulgaria", "croatia", "cyprus", "czechia",
            "czech republic", "denmark", "estonia", "finland", "france", "germany", "greece",
            "hungary", "italy", "latvia", "lithuania", "luxembourg", "malta", "netherlands",
            "poland", "portugal", "romania", "slovakia", "slovenia", "spain", "sweden",
            "ie", "eu"}
VAT_CONSENT_CHOICES = ("yes",)


@dataclass
class RmaRequest:
    contact_name: str = ""
    email: str = ""
    phone: str = ""
    shipping_address: str = ""
    country: str = ""
    serial: str = ""
    model: str = ""
    failed_part: str = ""
    vat_number: str = ""
    international_choice: str = ""      # outside the US: repair_and_return | replace
    vat_consent: str = ""               # "yes": documented consent to pay VAT fees is sent
    description: str = ""
    operational_on: str | None = None   # ISO date the replacement went live
    return_by: str | None = None

    @property
    def in_us(self) -> bool:
        return self.country.strip().lower() in US_NAMES

    @property
    def in_ireland_or_eu(self) -> bool:
        return self.country.strip().lower() in EU_NAMES

    @property
    def needs_vat_consent(self) -> bool:
        """A permanent replacement shipped internationally, outside Ireland/the EU."""
        return (bool(self.country.strip()) and not self.in_us and not self.in_ireland_or_eu
                and self.international_choice == "replace")


@dataclass
class Eligibility:
    fru: bool
    summary: str
    notes: list[str] = field(default_factory=list)


def eligibility(req: RmaRequest) -> Eligibility:
    """FRU (ship the part) or whole-unit RMA, with what it means for the site."""
    model = req.model.strip().upper()
    part = req.failed_part.strip().lower()
    if part in FRU_PARTS.get(model, ()):
        return Eligibility(True, f"{model} {part}: field-replaceable unit; the part is shipped",
                           ["Swap the part on site; the appliance keeps its settings."])
    reason = (f"{model or 'this model'} has no field-replaceable {part or 'part'}"
              if model else "model unknown")
    notes = ["The whole appliance is replaced: bring the new unit up with `bringup` and the "
             "saved settings sheet."]
    if not req.in_us and req.country:
        notes.append(f"International: repair and ship back takes up to {REPAIR_WEEKS} weeks; "
                     "a permanent replacement may incur VAT fees.")
        if req.in_ireland_or_eu:
            notes.append("Ireland or the EU: shipped from Ireland, no VAT fees expected.")
        elif req.international_choice == "replace":
            notes.append("Send Support documented consent to pay any VAT fees.")
    return Eligibility(False, f"whole-unit RMA ({reason})", notes)


def shipping_note(req: RmaRequest) -> str:
    """How the failed appliance goes back, as the procedure says for the country."""
    if req.in_us:
        return "The packing slip and tracking come by e-mail; a return shipping label is sent."
    return ("The packing slip and tracking come by e-mail; schedule a DHL pickup with the DHL "
            "account number given, or Support arranges WEEE scrapping.")


def return_warning(req: RmaRequest) -> str:
    """The return-by date and what happens after it; "" before the replacement is operational."""
    if not req.return_by:
        return ""
    return (f"Replacement operational on {req.operational_on}: return the failed unit by "
            f"{req.return_by}. Not returned within two weeks, it is invoiced at list price.")


def check(req: RmaRequest) -> list[tuple[str, str]]:
    """Every problem with the form as (field, message); empty when it can be sent."""
    out: list[tuple[str, str]] = []
    for name, label in (("contact_name", "contact name"), ("email", "e-mail"),
                        ("phone", "phone"), ("shipping_address", "shipping address"),
                        ("country", "country"), ("serial", "serial number"),
                        ("model", "model"), ("failed_part", "failed part")):
        if not getattr(req, name).strip():
            out.append((name, f"{label} is required"))
    if req.email.strip():
        problem = check_email(req.email.strip())
        if problem:
            out.append(("email", problem))
    if req.phone.strip() and sum(c.isdigit() for c in req.phone) < 6:
        out.append(("phone", f"{req.phone!r} has too few digits for a phone number"))
    if req.failed_part.strip() and req.failed_part.strip().lower() not in PARTS:
        out.append(("failed_part", f"choose one of: {', '.join(PARTS)}"))
    if req.country.strip() and not req.in_us:
        # the procedure asks for a VAT number "if necessary": where VAT fees
        # are expected, a permanent replacement shipped from outside the
        # country's customs union (not the US, not Ireland or the EU)
        if req.needs_vat_consent and not req.vat_number.strip():
            out.append(("vat_number", "a VAT number is needed for an international replacement "
                                      "outside Ireland and the EU"))
        if req.international_choice not in INTERNATIONAL_CHOICES and not eligibility(req).fru:
            out.append(("international_choice",
                        "choose repair-and-return (up to 4 weeks) or replace (VAT may apply)"))
        if req.needs_vat_consent and req.vat_consent not in VAT_CONSENT_CHOICES:
            out.append(("vat_consent", "an international replacement needs documented consent "
                                       "to pay VAT fees"))
    return out


def to_markdown(req: RmaRequest) -> str:
    e = eligibility(req)
    lines = [
        f"# RMA request: {req.model} {req.serial}", "",
        f"- Contact: {req.contact_name}, {req.email}, {req.phone}",
        f"- Ship to: {req.shipping_address.replace(chr(10), ', ')} ({req.country})",
        f"- Appliance: {req.model}, serial {req.serial}",
        f"- Failed part: {req.failed_part}",
        f"- Request: {e.summary}",
    ]
    if not req.in_us:
        lines.append(f"- VAT number: {req.vat_number}")
        if req.international_choice:
            lines.append(f"- International: {req.international_choice.replace('_', '-')}")
        if req.needs_vat_consent and req.vat_consent == "yes":
            lines.append(f"- VAT fees: {req.contact_name} consents to pay any VAT fees this "
                         "replacement incurs")
    if req.description:
        lines += ["", "## What happened", "", req.description]
    lines += ["", "## Notes", ""] + [f"- {n}" for n in e.notes + [shipping_note(req)]]
    if req.return_by:
        lines += ["", return_warning(req)]
    return "\n".join(lines) + "\n"


def write_request(req: RmaRequest, directory: Path) -> tuple[Path, Path]:
    """Write the request as Markdown and JSON; returns both paths. Raises
    ValueError listing the problems when ``check(req)`` finds any."""
    problems = check(req)
    if problems:
        raise ValueError("; ".join(f"{f}: {m}" for f, m in problems))
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"rma-{''.join(c if c.isalnum() or c in '-_' else '_' for c in req.serial)}"
    md, js = directory / f"{stem}.md", directory / f"{stem}.json"
    data = {**asdict(req), "eligibility": asdict(eligibility(req))}
    for path, text in ((md, to_markdown(req)), (js, json.dumps(data, indent=2))):
        atomic_write(path, text, mode=0o644)
    return md, js


def mark_operational(req: RmaRequest, on: dt.date) -> RmaRequest:
    """Record that the replacement is operational; the failed unit is due back
    RETURN_DAYS later."""
    req.operational_on = on.isoformat()
    req.return_by = (on + dt.timedelta(days=RETURN_DAYS)).isoformat()
    return req


def load_request(path: Path) -> RmaRequest:
    data = json.loads(Path(path).read_text())
    data.pop("eligibility", None)
    return RmaRequest(**data)
