"""NTP servers: the page the page map's [ntp] names (modelled: Status >
Basics), the sheet's optional ``[ntp]``. Names compare without case."""
from __future__ import annotations

from hwprobe.settings import validate as v
from hwprobe.settings.area import Area, Change, FieldWords as F, Key, Limit, Table, listed
from hwprobe.appliance.state import Settings

ORDER = 40
SECTION = "ntp"


def _load(table: dict, out: Settings) -> None:
    out.ntp_servers = list(table["servers"])


def _dump(s: Settings, w) -> list[str]:
    if s.ntp_servers is None:
        return []
    return ["", w.header("ntp"), *w.key("servers", list(s.ntp_servers), w.most("ntp", "servers"))]


TABLE = Table("ntp", {"servers": Key("list", True, v.check_server)}, load=_load, dump=_dump,
              ready="NTP ([ntp])", ready_when=lambda s: bool(s.ntp_servers))


def _lower(items) -> list[str]:
    return [str(x).strip().lower() for x in (items or [])]


def _stripped(items) -> list[str]:
    """The servers as the sheet or the appliance spells them (compared case-blind)."""
    return [str(x).strip() for x in (items or [])]


def _send(driver, c: Change) -> None:
    driver.save(SECTION, {"servers": list(c.settings.ntp_servers or [])})


ROWS = (
    Area("ntp", SECTION, "ntp", "NTP", "NTP",
         wanted=lambda s: [("ntp", _stripped(s.ntp_servers))] if s.ntp_servers is not None
         else [],
         present=lambda st, k: _stripped(st.ntp_servers),
         same=lambda held, wanted: _lower(held) == _lower(wanted),
         read=lambda section, st: setattr(st, "ntp_servers", section.lines("servers")),
         send=_send, describe=listed, absent="not in the sheet",
         fields=(F(None, "NTP servers", many=True),),
         limits=(Limit("servers", "max_servers", "servers"),),
         capture=lambda st, out: setattr(out, "ntp_servers", list(st.ntp_servers or []))),
)
