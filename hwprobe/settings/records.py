"""The sheet's tables that are no settings area: nothing of them is sent to
the appliance's /appliance pages. ``[appliance]`` records the old box (Status
> Basics), ``[failover]`` how the site moves traffic to its backup (bringup
failover), ``[backup]`` where the /login backup's password is kept (never the
password). The sheet reads them before and after the areas' tables."""
from __future__ import annotations

from hwprobe.settings import validate as v
from hwprobe.settings.area import Key, Table
from hwprobe.appliance.state import Settings


def _appliance_dump(s: Settings, w) -> list[str]:
    if not (s.model or s.serial):
        return []
    return (["", w.header("appliance")] + (w.key("model", s.model) if s.model else [])
            + (w.key("serial", s.serial) if s.serial else []))


def _appliance_load(table: dict, out: Settings) -> None:
    out.model, out.serial = table.get("model", ""), table.get("serial", "")


APPLIANCE = Table(
    "appliance", {"model": Key("str", False), "serial": Key("str", False)},
    load=_appliance_load, dump=_appliance_dump,
    page="Status > Basics of the old box; informational")


def _failover_load(f: dict, out: Settings) -> None:
    out.failover = {"method": f["method"], "peer_address": f["peer_address"],
                    "shared_ips": list(f.get("shared_ips", []))}


def _failover_dump(s: Settings, w) -> list[str]:
    f = s.failover
    if not f:
        return []
    return ["", w.header("failover"), *w.key("method", f["method"], "shared_ip | dns | nat"),
            *w.key("peer_address", f["peer_address"]),
            *w.key("shared_ips", list(f.get("shared_ips", [])))]


FAILOVER = Table(
    "failover", {
        "method": Key("str", True, lambda x: v.check_choice(x, ("shared_ip", "dns", "nat"))),
        "peer_address": Key("str", True, v.check_ipv4),
        "shared_ips": Key("list", False, v.check_ipv4),
    }, load=_failover_load, dump=_failover_dump,
    page="/login > Management > Failover; used by bringup failover")


BACKUP = Table(
    "backup", {"note": Key("str", True, lambda x: "is empty" if not x.strip() else None)},
    load=lambda b, out: setattr(out, "backup", {"note": b["note"]}),
    dump=lambda s, w: (["", w.header("backup"), *w.key("note", s.backup["note"])]
                       if s.backup else []),
    page="the /login backup: where its password is kept, never the password")



def sheet_tables(areas) -> tuple[Table, ...]:
    """Every table of a sheet, in the order a sheet lists them: ``[appliance]``,
    the areas' (``areas.tables``), ``[failover]``, ``[backup]``."""
    return (APPLIANCE, *areas.tables, FAILOVER, BACKUP)
