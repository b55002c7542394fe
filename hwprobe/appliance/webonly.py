"""What only the web interface can do, as a type: ``WebOnlyDriver``.

The local console changes four settings and reads two "show" pages; the web
interface also proves the services work (``bringup verify``: /check_health,
the test e-mail, Support > Utilities, the NTP sync status) and lets every page
be walked as served (``bringup survey``). Those take a ``WebOnlyDriver``, not
any driver: the web driver (hwprobe/appliance/web.py) is one, the console
driver is not. tests/test_web_only.py checks that the web driver keeps to it
and that verify and survey use nothing else.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Mapping, Protocol, runtime_checkable

from hwprobe.appliance.base import ApplianceDriver

if TYPE_CHECKING:
    from hwprobe.appliance.html import Page
    from hwprobe.appliance.webpages import PageNames

# Support > Utilities: the page map's [utilities] keys of what can be run
UtilityAction = Literal["ping_action", "lookup_action", "connect_action", "syslog_test_action"]


@runtime_checkable
class WebOnlyDriver(ApplianceDriver, Protocol):
    """An open, logged-in driver on the appliance's web interface. Beside the
    driver interface, each method raises only errors from hwprobe.errors:
    Unreachable, SessionExpired, and ValidationRefused when the appliance
    refuses to run a utility or send its test e-mail."""

    address: str                        # the appliance's address, as reached
    pages: Mapping[str, Any]            # the page map of its firmware profile
    names: PageNames                    # each page's menu name, by path
    profile: str | None                 # its firmware profile (None: the base layout)
    software_version: str               # as Status > Basics shows it ("" until read)

    def check_health(self) -> tuple[int, str]:
        """The unauthenticated /check_health: (HTTP status, its text)."""
        ...

    def utility(self, action: UtilityAction, **fields: str) -> str:
        """Support > Utilities: run ``action`` with ``fields`` (page map names:
        host, port, name, dns_server); the appliance's answer, "TARGET:
        reached - words" per target, joined by "; "."""
        ...

    def ntp_status(self) -> tuple[str, list[list[str]]]:
        """The NTP sync status and [[server, state, details]] ("", [] when
        this firmware shows none)."""
        ...

    def know_profile(self) -> str | None:
        """The firmware profile, read from Status > Basics once (None: no
        profile claims its software version)."""
        ...

    def read_page(self, path: str) -> tuple[str, Page]:
        """One page as served: its HTML and the parsed page."""
        ...
