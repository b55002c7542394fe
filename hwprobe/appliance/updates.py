"""Updates of the /appliance interface: the site software, through the web
driver.

Documented: the appliance finds and installs its updates from the vendor
when it can reach the vendor, or takes an update file (an offline data
center); the full site package is provided only once a valid certificate
that matches the appliance's DNS name is installed; installing stops every
session and takes 15 to 60 minutes on a real box. The paths, fields and
columns are the page map's ``[updates]`` (modelled, docs/DESIGN.md).
"""
from __future__ import annotations

from dataclasses import dataclass

from hwprobe.errors import ApplianceError, ValidationRefused


@dataclass
class SiteSoftware:
    """What Updates says of the site software ("" and "" when none)."""

    version: str
    hostname: str

    @property
    def installed(self) -> bool:
        return bool(self.version)


@dataclass
class Offer:
    """One update the vendor offers (a row of the list after Check)."""

    package: str
    description: str
    version: str
    hostname: str
    size: str


def site_software(driver) -> SiteSoftware:
    """The site software the appliance holds, as Updates shows it.
    ApplianceError when the page shows neither value (another firmware)."""
    spec = driver.pages["updates"]
    _, page = driver.read_page(spec["path"])
    version, hostname = page.text_of(spec["site_version"]), page.text_of(spec["site_hostname"])
    if version is None or hostname is None:
        raise ApplianceError("Updates shows no site software field: the page map may not match "
                             "this firmware; run `bringup survey`")
    return SiteSoftware(version.strip(), hostname.strip())


def check(driver) -> tuple[list[Offer], str, bool]:
    """Check for updates at the vendor: (what it offers, the appliance's
    words, whether the vendor was reached). Unreachable, ApplianceError."""
    spec, common = driver.pages["updates"], driver.pages["common"]
    try:
        page = driver.send_form(spec["path"], spec["check_action"], {}, follow=True)
    except ValidationRefused as exc:
        return [], str(exc).split(": ", 1)[-1], False
    words = " ".join(n.text for n in page.by_class(common["notice_class"])) if page else ""
    rows = (page.table(spec["available_table"]) if page is not None else None) or []
    offers = [Offer(**dict(zip(spec["available_columns"], row))) for row in rows
              if len(row) == len(spec["available_columns"])]
    return offers, words, True


def install(driver, offer: Offer) -> None:
    """Install ``offer`` (its row's Install). The appliance restarts after
    answering. ValidationRefused, Unreachable, ApplianceError."""
    spec = driver.pages["updates"]
    driver.send_form(spec["path"], spec["install_action"], {spec["package"]: offer.package},
                     pick=lambda form: form.fields.get(spec["package"]) == offer.package)


def upload_update(driver, path, on_progress=None) -> None:
    """Upload the update file at ``path`` (streamed) and install it; the
    appliance restarts after answering. ValidationRefused (the appliance's
    words: not an update, damaged, not for this site), Unreachable."""
    spec = driver.pages["updates"]
    driver.upload(spec["path"], spec["upload_action"], {}, spec["file"], path,
                  on_progress=on_progress)
