"""The settings areas, one module each (ip, network, routes, ntp, syslog, smtp).

Each module of this package is one area of the appliance's settings and says
everything bringup knows of it, in one file (see ``hwprobe.settings.area``):
its sheet table (``TABLE``: keys, checks, loading and writing), its steps
(``ROWS``: page-map section, planning, sending, reading back, words, limits)
and its place in apply order (``ORDER``: addresses before the gateway and
routes that need them, the network before the services that use it). The
modules are found by scanning this package, so adding an area is one module
here and its section in the page map. The sheet, the engine's plan and apply,
capture, the wording, the report and the console's screens loop over them.

``AREAS`` is the table bound to the shipped page map (each row's page title
and limits read from there); ``build(pages)`` binds it to another one.
``AREAS.read_state(driver)`` reads an appliance into an ``ApplianceState``;
``check_fits(settings, version)`` checks a sheet against the firmware
profile that version has, before the first change.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from hwprobe.errors import BadInput
from hwprobe.settings.area import Area, Table
from hwprobe.appliance.pagemap import PAGES, menu_names, page_of, profile_for
from hwprobe.appliance.state import ApplianceState

if TYPE_CHECKING:                                   # pragma: no cover
    from hwprobe.appliance.base import ApplianceDriver
    from hwprobe.appliance.section import Section
    from hwprobe.appliance.state import Settings

BASICS = "status_basics"        # model, serial, software version, system time


def modules() -> list[ModuleType]:
    """The area modules of this package, in the order they declare (``ORDER``)."""
    found = [importlib.import_module(f"{__name__}.{info.name}")
             for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]
    return sorted(found, key=lambda module: module.ORDER)


def page_title(pages: Mapping[str, Any], section: str) -> str:
    """The menu title of the page that holds ``section``'s form, with its
    panel: "Networking > IP Configuration > Global Configuration". A page the
    menu does not list is named by its path."""
    spec = pages[section]
    path = page_of(spec) or section
    name = menu_names(pages).get(path, path)
    return f"{name} > {spec['panel']}" if spec.get("panel") else name


@dataclass(frozen=True)
class Areas:
    """The rows bound to one page map, in apply order, and their sheet tables."""

    rows: tuple[Area, ...]
    tables: tuple[Table, ...] = ()
    pages: Mapping[str, Any] = field(repr=False, default_factory=dict)

    def __iter__(self) -> Iterator[Area]:
        return iter(self.rows)

    def __getitem__(self, name: str) -> Area:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(row.name for row in self.rows)

    @property
    def sections(self) -> tuple[str, ...]:
        """The page-map sections a whole read of the appliance reads: Status >
        Basics, then each area's."""
        return tuple(dict.fromkeys((BASICS, *(row.section for row in self.rows))))

    def of_table(self, table: str) -> list[Area]:
        """The areas a sheet table holds (``network``: gateway, hostname, dns)."""
        return [row for row in self.rows if row.table == table]

    def change(self, name: str, before, after) -> str:
        """Area ``name``'s change in words (see ``Area.change``)."""
        try:
            return self[name].change(before, after)
        except KeyError:
            return f"{name}: {before} -> {after}"

    def describe(self, name: str, value) -> str:
        """``value`` of area ``name`` in words; an unknown area's value as text."""
        try:
            return self[name].describe(value)
        except KeyError:
            return "none" if value in (None, "", []) else str(value)

    def limit_problems(self, tables: Mapping[str, Any],
                       only: str | None = None) -> list[tuple[tuple, str]]:
        """Each list over its limit in ``tables`` (a sheet's tables, by name;
        ``only``: that table alone), as (place in the sheet, what is wrong)."""
        out = []
        for row in self.rows:
            table = tables.get(row.table)
            if not isinstance(table, Mapping) or only not in (None, row.table):
                continue
            for limit in row.limits:
                items = table.get(limit.key)
                if isinstance(items, list) and (problem := row.over_limit(limit.key, items)):
                    out.append(((row.table, limit.key), problem))
        return out

    # --- reading an appliance ---------------------------------------------------------------

    def read_state(self, driver: "ApplianceDriver") -> ApplianceState:
        """Everything the appliance behind ``driver`` shows, each page read
        once, now. Raises the driver's errors (PageMismatch before anything is
        changed, Unreachable, SessionExpired, ApplianceError)."""
        return self.state_of(driver.read(self.sections))

    def read_back(self, driver: "ApplianceDriver") -> ApplianceState:
        """The appliance after changes: only what a change touched is read
        again. Raises as ``read_state``."""
        return self.state_of(driver.read_back(self.sections))

    def state_of(self, shown: Mapping[str, "Section"]) -> ApplianceState:
        """An ``ApplianceState`` from the sections as shown (a section a driver
        does not show, such as e-mail on the console, leaves its areas unset)."""
        state = ApplianceState()
        basics = shown.get(BASICS)
        if basics is not None:
            for name in basics.spec["values"]:
                value = basics.text(name)
                if value is not None and hasattr(state, name):
                    setattr(state, name, value)
        for row in self.rows:
            if row.section in shown:
                row.read(shown[row.section], state)
        return state


class SheetDoesNotFit(BadInput):
    """The sheet holds more than this appliance's firmware takes; nothing was changed."""


def build(pages: Mapping[str, Any] = PAGES) -> Areas:
    """The areas bound to the page map ``pages``: each row's page title and
    limits read from there (a limit the map does not give is no limit).
    Raises KeyError when the map lacks a section a row needs."""
    found = modules()
    rows = []
    for module in found:
        for row in module.ROWS:
            spec = pages[row.section]
            limits = tuple(replace(lim, most=int(spec[lim.map_key])) for lim in row.limits
                           if lim.map_key in spec)
            rows.append(replace(row, page=page_title(pages, row.section), limits=limits))
    return Areas(tuple(rows), tuple(module.TABLE for module in found), pages)


AREAS: Areas = build()


def check_fits(settings: "Settings", version: str, areas: Areas = AREAS) -> str | None:
    """Raise SheetDoesNotFit naming each limit of the firmware profile that
    claims ``version`` (the page map's [profiles]) the sheet goes beyond, area
    by area. Returns the profile's name, or None when no profile claims
    ``version`` (then nothing is checked here; the pages' own answers still are)."""
    found = profile_for(version or "")
    if found is None:
        return None
    name, profile = found
    problems = [problem for row in areas if row.fits is not None
                for problem in row.fits(settings, profile)]
    if problems:
        raise SheetDoesNotFit(f"the sheet does not fit this appliance (software {version}, "
                              f"firmware profile {name}): " + "; ".join(problems)
                              + ". Nothing was changed.")
    return name
