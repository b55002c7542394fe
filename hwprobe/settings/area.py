"""What one settings area module declares (the modules are ``hwprobe.settings.areas``).

An area module holds, in one file, everything bringup knows of one setting of
the appliance: its sheet table (``Table``: keys, checks, how it loads into a
``Settings`` and is written back), its steps (``Area``: where it lives in the
page map, how the sheet's value is planned, sent and read back, its words for
the Restore rows, the detail pane, the report and the dry run, its limits),
and how the console's Network step types it (``Typed``). The sheet, the
engine, capture, the wording and the screens only loop over these.

Values are JSON-friendly (dicts, lists, strings) so steps, journals and
reports hold them as they are.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

from hwprobe.settings import validate as v
from hwprobe.appliance.state import ApplianceState, Settings
from hwprobe.safetext import nic_name

if TYPE_CHECKING:                                   # pragma: no cover
    from hwprobe.appliance.base import ApplianceDriver
    from hwprobe.appliance.section import Section

NOTHING = "none"


# --- the sheet --------------------------------------------------------------------------

@dataclass(frozen=True)
class Key:
    """One key of a sheet table: ``kind`` "str", "int" or "list" (of str);
    ``check(value)`` (each entry of a list) gives None or what is wrong."""

    kind: str
    required: bool = True
    check: Callable[[Any], str | None] | None = None


@dataclass(frozen=True)
class Each:
    """A table a newer sheet format may also write once per entry (``[[syslog]]``):
    the keys of one entry, the format that allows it, and what a sheet of an
    older format is told."""

    keys: Mapping[str, Key]
    since: int
    refused: str


@dataclass(frozen=True)
class Table:
    """One table of the settings sheet.

    ``load(good, settings)`` puts its checked value (a dict, or for an array
    table or ``each`` a list of dicts) into ``settings``; ``dump(settings,
    writer)`` gives its lines for a sheet (none when the settings leave it
    out); ``check(doc, good, problems, areas)`` adds to ``problems`` (the
    sheet's ``Problems``) what no single key shows (a gateway in no subnet, a
    key another key rules out), with the sheet as parsed, its checked tables
    and the areas bound to the page map; ``format(settings)`` is the sheet
    format the settings need here."""

    name: str
    keys: Mapping[str, Key]
    load: Callable[[Any, Settings], None]
    dump: Callable[[Settings, Any], list[str]]
    array: bool = False                     # [[name]], one per entry
    needs: str | None = None                # a sheet must have it: what to add
    format2: Mapping[str, Key] = field(default_factory=dict)   # keys format 2 reads otherwise
    each: Each | None = None
    check: Callable[[dict, dict, Any, Any], None] | None = None
    format: Callable[[Settings], int] = lambda settings: 1
    page: str = ""                          # a table that is no area: its comment in a sheet
    ready: str | None = None                # readiness: "NTP ([ntp])"
    ready_when: Callable[[Settings], bool] | None = None

    def keys_of(self, fmt: int) -> Mapping[str, Key]:
        """The keys a sheet of format ``fmt`` has here."""
        return {**self.keys, **self.format2} if fmt >= 2 else self.keys


# --- words -----------------------------------------------------------------------------------

def plain(value: Any) -> str:
    """A value in words: "none" for nothing, yes/no, a dict as "key value, ..."."""
    if value is None or value == "" or value == []:
        return NOTHING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ", ".join(f"{label_of(k).lower()} {plain(v)}" for k, v in value.items()
                         if v not in (None, "", []))
    return str(value)


def label_of(key: str) -> str:
    """A key as a label: "from_address" -> "From address"."""
    return key.replace("_", " ").capitalize()


def choice(words: Mapping[str, str]) -> Callable[[Any], str]:
    """Say one of a list of choices by its name on the appliance's page."""
    return lambda value: words.get(str(value), plain(value)) if value else NOTHING


def nic(value: Any) -> str:
    return nic_name(value) if value else NOTHING


def netmask(value: Any) -> str:
    prefix = v.netmask_to_prefix(value) if value else None
    return f"{value} (/{prefix})" if prefix is not None else plain(value)


def listed(value) -> str:
    """A list on one line: "a, b"; "none" when empty."""
    return ", ".join(str(x) for x in value) if value else NOTHING


@dataclass(frozen=True)
class FieldWords:
    """One field of an area's value for the detail pane: ``key`` in the value
    (a dict), or None for the value itself; ``many``: a list, said one entry
    per line."""

    key: str | None
    label: str
    say: Callable[[Any], str] = plain
    many: bool = False


# --- the steps -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Limit:
    """How many entries a list of the area may hold: ``key`` in the sheet's
    table, ``map_key`` in the area's page-map section (``most`` is read from
    there when the areas are bound to a page map)."""

    key: str
    map_key: str
    noun: str
    most: int | None = None

    def problem(self, items) -> str | None:
        """None, or the sentence saying ``items`` are too many."""
        if self.most is not None and len(items) > self.most:
            return f"{len(items)} {self.noun} listed; the appliance holds at most {self.most}"
        return None


@dataclass(frozen=True)
class Change:
    """What an area's ``send`` gets: the step's wanted value, the appliance as
    read just before, the sheet, and the SMTP password (None when none)."""

    after: Any
    state: ApplianceState
    settings: Settings
    smtp_password: str | None = None


@dataclass(frozen=True)
class Secret:
    """A write-only value an area sends, read back only as "one is held"."""

    words: str
    wanted: Callable[[Settings], bool]          # the sheet needs one
    held: Callable[[ApplianceState], bool]      # the appliance says it holds one


@dataclass(frozen=True)
class Typed:
    """How the console's Network step types an area in one field: the sheet's
    value as typed (``text``), what is wrong with what was typed
    (``problem(area, text, addresses)``: addresses are the step's typed
    (address, netmask) pairs, None for one with a problem of its own), and
    what was typed as Settings fields (``into``). Typed text is stripped."""

    label: str
    placeholder: str
    text: Callable[[Settings], str]
    problem: Callable[["Area", str, list], str | None]
    into: Callable[[str], dict[str, Any]]


@dataclass(frozen=True)
class Area:
    """One settings area, in apply order with the others.

    ``wanted(settings)`` gives (step key, value) for each change the sheet
    asks of it (none when the sheet leaves it out); ``present(state, key)``
    the appliance's value for that key, in the same shape; ``read(section,
    state)`` fills ``state`` from its page-map section as the appliance shows
    it; ``send(driver, change)`` changes it (raising the driver's errors);
    ``describe(value)`` says a value in words; ``capture(state, settings)``
    copies the appliance's value into settings for a sheet."""

    name: str                       # step area and driver capability
    section: str                    # page-map section that holds its form
    table: str                      # the sheet's table
    label: str                      # the technician's name for one entry
    heading: str                    # ... for all of them (summaries)
    wanted: Callable[[Settings], list[tuple[str, Any]]]
    present: Callable[[ApplianceState, str], Any]
    read: Callable[["Section", ApplianceState], None]
    describe: Callable[[Any], str]
    capture: Callable[[ApplianceState, Settings], None]
    send: Callable[["ApplianceDriver", Change], None] | None = None
    # its value as values of its section's form, by page-map key: the areas
    # that have one share that form (Global Configuration) and are saved
    # once with all their changes; they need no ``send``
    joint: Callable[[Settings], dict[str, Any]] | None = None
    fields: tuple[FieldWords, ...] = ()     # the detail pane ((the value itself) when empty)
    absent: str | None = "none"     # summary word when the sheet asks nothing; None: no line
    needs_addresses: bool = False   # not sent when an address of the sheet failed
    secret: Secret | None = None
    limits: tuple[Limit, ...] = ()
    keyed: bool = False             # one step per entry (addresses, routes), keyed by it
    typed: Typed | None = None      # typed on the console's Network step
    # what of the sheet's value a firmware profile ([profiles.NAME] of the page
    # map) cannot hold, each as a sentence: checked before the first change
    fits: Callable[[Settings, Mapping[str, Any]], list[str]] | None = None
    # the runbook checklists' placeholders it fills from a sheet
    placeholders: Callable[[Settings], dict[str, str]] | None = None
    page: str = ""                  # "Status > Basics": bound from the page map
    # whether the appliance's value is the sheet's: equality, or case-blind
    # for names (host names, NTP servers); the values themselves keep the
    # appliance's spelling: no case change touches its text
    same: Callable[[Any, Any], bool] = lambda held, wanted: held == wanted

    def title(self, after) -> str:
        """The step's title: "DNS: 198.51.100.53, 203.0.113.53"."""
        return f"{self.label}: {self.describe(after)}"

    def change(self, before, after) -> str:
        """The whole change in words, before -> after: "DNS: none -> 198.51.100.53",
        "Address: add NIC2 203.0.113.20/25 (255.255.255.128), VLAN 20", "E-mail:
        relay ... (was: none)"; "(as it is)" when nothing differs."""
        now, want = self.describe(before), self.describe(after)
        if self.same(before, after):
            return f"{self.label}: {want} (as it is)"
        if before is None and self.keyed:
            return f"{self.label}: add {want}"
        if isinstance(after, dict) and not self.keyed:
            return f"{self.label}: {want} (was: {now})"
        return f"{self.label}: {now} -> {want}"

    def over_limit(self, key: str, items) -> str | None:
        """None, or why ``items`` under ``key`` of the area's table are too many."""
        return next((p for lim in self.limits if lim.key == key and (p := lim.problem(items))),
                    None)

    def summary(self, settings: Settings) -> str | None:
        """One line saying what the sheet sets here, or None for no line."""
        values = [after for _, after in self.wanted(settings)]
        if not values:
            return f"{self.heading}: {self.absent}" if self.absent else None
        return f"{self.heading}: " + "; ".join(self.describe(x) for x in values)

    def asked(self, settings: Settings) -> Any:
        """The value the sheet asks of a one-step area (None: it asks nothing)."""
        return next((after for _, after in self.wanted(settings)), None)

    def send_to(self, driver: "ApplianceDriver", change: Change) -> None:
        """Send ``change`` through ``driver``: the area's own ``send``, or one
        save of its form with its values. Raises the driver's errors."""
        if self.send is not None:
            self.send(driver, change)
        else:
            driver.save(self.section, self.joint(change.settings))
