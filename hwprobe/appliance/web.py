"""The web driver: the appliance's /appliance interface over pinned HTTPS.

Every path and form field comes from the page map; the layout is the
firmware profile's, picked from the software version Status > Basics shows.
Three layers, each in its own module: ``webhttp.Https`` sends one request at
a time over the pinned line (bounded answers, one retry for a GET);
``websession.WebSession`` logs in, stays logged in, keeps pages and posts
forms (a dropped POST is re-read, never sent again); ``WebDriver`` here is
the driver interface (``hwprobe.appliance.base``): it reads the sections it
is asked for, each page once and checked against the page map before any
change, and saves a section's form or adds and removes a table's row with
the values it is given. What those values are is the settings areas'.

Requests (a slow appliance or line pays for each one): the pages read by
``read()`` are kept; a save posts its form from the kept page and marks the
page as touched; ``read_back()`` then reads again only the pages a save
touched.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from hwprobe.errors import PageMismatch
from hwprobe.appliance.base import ALL_CAPABILITIES, written
from hwprobe.appliance.pagecheck import MISSING, check_section
from hwprobe.appliance.pagemap import PAGES, page_of, pages_for, profile_for
from hwprobe.appliance import html
from hwprobe.appliance.webfiles import FileForms
from hwprobe.appliance.webpages import PageNames, PageSection, form_shows


class WebDriver(FileForms):
    """The appliance's web interface. Use as a context manager, or open()/close().

    Keyword arguments as for ``webhttp.Https`` (the certificate pin, the
    laptop port to stay on, timeouts); ``pages`` is the page map."""

    kind = "web"
    capabilities = ALL_CAPABILITIES

    def __init__(self, address: str, port: int = 443, *,
                 pages: Mapping[str, Any] = PAGES, **kwargs):
        super().__init__(address, port, pages=pages, **kwargs)
        self.base_pages = pages     # self.pages: the firmware profile's layout, once known
        self.profile: str | None = None
        self.software_version = ""
        self._profile_known = False

    def __enter__(self) -> "WebDriver":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- reading -----------------------------------------------------------------------------

    def read(self, sections: Sequence[str]) -> dict[str, PageSection]:
        """``sections`` as the appliance shows them now, each page read once
        (Status > Basics first: it says which firmware layout applies), and
        every page checked against the page map before anything is changed.

        Raises PageMismatch (a field the layout names is not on its page),
        Unreachable, SessionExpired, ApplianceError (HTTP 5xx)."""
        got: dict[str, html.Page] = {}     # a new login mid-read forgets the kept ones

        def page(path: str) -> html.Page:
            if path not in got:
                got[path] = self._page(path)
            return got[path]

        self._know_profile(page(self.base_pages["status_basics"]["path"]))
        self._check_pages(page, sections)
        return self._sections(page, sections)

    def read_back(self, sections: Sequence[str]) -> dict[str, PageSection]:
        """``sections`` after saves: the pages a save touched (or that were
        never read) are read again, the others are as last read. Raises as
        ``read``, PageMismatch aside."""
        got: dict[str, html.Page] = {}

        def page(path: str) -> html.Page:
            if path not in got:
                kept = self._pages.get(path)
                got[path] = (self._page(path) if kept is None or path in self._touched
                             else kept)
            return got[path]

        return self._sections(page, sections)

    def _sections(self, page: Callable[[str], html.Page],
                  sections: Sequence[str]) -> dict[str, PageSection]:
        return {name: PageSection(name, self.pages[name], page(page_of(self.pages[name])),
                                  self.names) for name in sections}

    @property
    def touched_pages(self) -> frozenset[str]:
        """Pages a save touched since they were last read."""
        return frozenset(self._touched)

    # --- the firmware profile -------------------------------------------------------------

    def read_page(self, path: str) -> tuple[str, html.Page]:
        """GET one page as served: (its HTML, the parsed page). For survey."""
        page = self._page(path)
        return self._last_html, page

    def know_profile(self) -> str | None:
        """The firmware profile of this appliance (None: no profile claims its
        software version), read from Status > Basics once."""
        self._know_profile()
        return self.profile

    def _know_profile(self, basics: html.Page | None = None) -> None:
        """Pick the page layout from the software version Status > Basics
        shows (hwprobe/appliance/pagemap.toml [profiles]); once per driver. A version
        no profile claims keeps the base layout."""
        if self._profile_known:
            return
        if basics is None:
            basics = self._page(self.base_pages["status_basics"]["path"])
        version = (basics.text_of("software_version") or "").strip()
        found = profile_for(version)
        known = self.base_pages.get("profiles", {})
        if found is not None and found[0] in known:
            self.profile, self.pages = found[0], pages_for(found[0], self.base_pages)
            self.names = PageNames(self.pages)
        self.software_version, self._profile_known = version, True

    def _check_pages(self, page: Callable[[str], html.Page], sections: Sequence[str]) -> None:
        """Every field the layout names on the pages ``sections`` are read
        from is there; else PageMismatch naming the page, the field and the
        software version, before anything is changed."""
        for section in sections:
            where = page_of(self.pages[section])
            missing = [f for f in check_section(self.pages, section, page(where))
                       if f.status == MISSING]
            if missing:
                f = missing[0]
                name = self.names.of(where)
                profile = f", firmware profile {self.profile}" if self.profile else ""
                raise PageMismatch(
                    f"{name} does not match what bringup knows of this firmware: no {f.kind} "
                    f"{f.field!r} (software {self.software_version or 'unknown'}{profile}). "
                    f"Nothing was changed. Run `bringup survey --address {self.address}` and "
                    f"send the archive it writes, so the page map can be updated",
                    page=name, field=f.field, version=self.software_version)

    def layout(self, section: str) -> Mapping[str, Any]:
        """``section`` as this appliance's firmware lays it out (read from
        Status > Basics once, when not known yet)."""
        self._know_profile()
        return self.pages[section]

    def page_name(self, section: str) -> str:
        """The page ``section`` is on, as the menu names it."""
        return self.names.of(page_of(self.pages[section]))

    # --- changes ----------------------------------------------------------------------------

    def save(self, section: str, values: Mapping[str, Any]) -> None:
        """Save ``section``'s form once with ``values`` (by page-map key; every
        other field as the page shows it). ValidationRefused with the
        appliance's message when it refuses any of them (nothing saved)."""
        spec = self.pages[section]
        changes = self._fields(spec, values)
        self._submit(page_of(spec), spec["action"], changes,
                     applied=form_shows(spec["action"], changes))

    def add_row(self, section: str, table: str, values: Mapping[str, Any], match: str) -> None:
        """Add a row to ``section``'s table ``table`` through its add form; the
        row is known by its ``match`` column. ValidationRefused when the
        appliance refuses it (bad value, the row is there already)."""
        spec = self.pages[section]
        self._submit(page_of(spec), spec["add_action"], self._fields(spec, values),
                     applied=lambda p: any(row[match] == values[match]
                                           for row in self._rows(spec, table, p)))

    def remove_row(self, section: str, table: str, values: Mapping[str, Any], match: str) -> None:
        """Delete the row of ``section``'s table ``table`` whose ``match``
        column holds ``values[match]``, through its own delete form.
        ValidationRefused when there is no such row."""
        spec = self.pages[section]
        self._submit(page_of(spec), spec["delete_action"], self._fields(spec, values),
                     pick=lambda f: f.fields.get(spec[match]) == values[match],
                     applied=lambda p: all(row[match] != values[match]
                                           for row in self._rows(spec, table, p)))

    def _rows(self, spec: Mapping[str, Any], table: str, page: html.Page) -> list[dict[str, str]]:
        return PageSection("", spec, page, self.names).rows(table)

    def _fields(self, spec: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, str]:
        """Form fields from values by page-map key (see ``hwprobe.appliance.base``)."""
        fields: dict[str, str] = {}
        for key, value in values.items():
            name = spec[key]
            if "{n}" in name:           # one field per server slot
                fields.update({name.format(n=n): written(v, "\n")
                               for n, v in enumerate(value, start=1)})
                continue
            fields[name] = written(value, "\n")
            if "password" in key and fields[name]:
                self._secrets.add(fields[name])
        return fields

    # --- what only the web does (bringup verify) ------------------------------------------------

    def send_test_email(self) -> str:
        """Security > Email Configuration > send test email; returns the
        appliance's notice. ValidationRefused when it cannot send."""
        self._know_profile()
        spec, common = self.pages["smtp"], self.pages["common"]
        if "test_action" in spec:
            shown = self._submit(spec["page"], spec["test_action"], {}, follow=True)
        else:   # the newer layout: save the form as it is, with "send a test e-mail" ticked
            shown = self._submit(spec["page"], spec["action"], {spec["test_on_save"]: "1"},
                                 follow=True)
        notices = shown.by_class(common["notice_class"]) if shown is not None else []
        return " ".join(n.text for n in notices) or "test email sent"

    def utility(self, action: str, **fields: str) -> str:
        """Support > Utilities: run ``action`` (a page map key of [utilities]:
        ping_action, lookup_action, connect_action, syslog_test_action) with
        ``fields`` (page map names: host, port, name, dns_server); returns the
        appliance's answer. ValidationRefused when it refuses to run it."""
        spec, common = self.pages["utilities"], self.pages["common"]
        shown = self._submit(spec["path"], spec[action],
                             {spec[k]: v for k, v in fields.items()}, follow=True)
        notices = shown.by_class(common["notice_class"]) if shown is not None else []
        return " ".join(n.text for n in notices)

    def ntp_status(self) -> tuple[str, list[list[str]]]:
        """NTP sync status from the [ntp] page: (status, [[server, state, details]]).
        ("", []) when this firmware shows none."""
        spec = self.pages["ntp"]
        page = self._page(spec["page"])
        found = page.by_id(spec["status"])
        return (found.text if found is not None else "", page.table(spec["status_table"]) or [])

    def check_health(self) -> tuple[int, str]:
        """The unauthenticated /check_health: (HTTP status, its text)."""
        resp = self._send("GET", "/check_health")
        return resp.status_code, resp.text.strip()[:200]
