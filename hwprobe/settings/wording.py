"""A settings area's values in the technician's words, whole and field by field.

Each area module gives its one-line words (``Area.describe``) and its
change, before -> after (``Area.change``). This module builds on the same rows
the forms every face shares, so the Restore rows, the Network step's summary,
the Done screen, the report and ``apply``'s plain output say a change alike:

- ``step_change(step)``: a step's whole change, as a Restore row says it;
- ``step_line(step, now)``: the same with its mark ("[x]") and, when the
  appliance read back something else, what it holds;
- ``fields(area, value)``: every field of a value, unabridged (the detail pane);
- ``detail(step, now)``: those fields side by side, now / the sheet / read back.
- ``read_back(step, now)``: what the appliance holds, in the area's words;
- ``to_send(settings, names)``: what the Network step sends, one line a step.

The fields are each area's (``Area.fields``, in its module): a key of the
area's value, its label, how its value is said. A key the area does not list
(a newer firmware's field: a per-server port, a trusted certificate) is still
shown, under a label made from its name, so no field is ever hidden.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from hwprobe.settings.area import NOTHING, FieldWords, label_of, plain
from hwprobe.settings.areas import AREAS, Areas

# the same marks the report's step table uses
MARK = {"verified": "[x]", "unchanged": "[=]", "failed": "[!]", "skipped": "[-]",
        "pending": "[ ]", "applying": "[>]"}


def _say(field: FieldWords, value: Any) -> str:
    if field.many or isinstance(value, list):
        items = [field.say(x) if not isinstance(x, Mapping) else plain(x) for x in value or []]
        return "\n".join(items) if items else NOTHING
    return field.say(value)


def fields(area: str, value: Any, *, areas: Areas = AREAS) -> list[tuple[str, str]]:
    """Every field of ``value`` (area ``area``'s shape) as (label, words); a
    list field has one entry per line. None (not set) says each field "none".
    Keys the area does not list come last, under a label from their name; an
    area that lists none is one field under its heading."""
    try:
        row = areas[area]
        table = row.fields or (FieldWords(None, row.heading),)
    except KeyError:
        table = (FieldWords(None, label_of(area)),)
    out = []
    for field in table:
        if field.key is None:
            raw = value
        else:
            raw = value.get(field.key) if isinstance(value, Mapping) else None
        out.append((field.label, _say(field, raw)))
    if isinstance(value, Mapping):
        known = {f.key for f in table}
        out += [(label_of(k), _say(FieldWords(k, label_of(k)), x)) for k, x in value.items()
                if k not in known]
    return out


@dataclass(frozen=True)
class FieldChange:
    """One line of the detail pane: a field now, from the sheet, and as read
    back after the apply (None before it)."""

    label: str
    now: str
    sheet: str
    read_back: str | None = None

    @property
    def differs(self) -> bool:
        return self.now != self.sheet


_UNREAD = object()


def detail(step, now: Any = _UNREAD, *, areas: Areas = AREAS) -> list[FieldChange]:
    """Every field of ``step``'s area: what the appliance held, what the sheet
    asks, and (when ``now`` is given: the value read back after the apply)
    what it holds now. A field only one side has is "none" on the other."""
    before = dict(fields(step.area, step.before, areas=areas))
    after = dict(fields(step.area, step.after, areas=areas))
    held = dict(fields(step.area, now, areas=areas)) if now is not _UNREAD else {}
    labels = list(after) + [x for x in (*before, *held) if x not in after]
    labels = list(dict.fromkeys(labels))
    out = [FieldChange(x, before.get(x, NOTHING), after.get(x, NOTHING),
                       held.get(x, NOTHING) if now is not _UNREAD else None) for x in labels]
    try:
        secret = areas[step.area].secret
    except KeyError:
        secret = None
    if secret is not None and step.changed and step.before == step.after:
        out.append(FieldChange(secret.words[:1].upper() + secret.words[1:], "none held",
                               "typed on this screen (never shown)"))
    return out


def step_change(step, *, areas: Areas = AREAS) -> str:
    """``step``'s whole change in words, as the Restore row says it: "DNS:
    none -> 198.51.100.53, 203.0.113.53". A step that only sets a secret the
    appliance lacks says so after "(as it is)"."""
    words = areas.change(step.area, step.before, step.after)
    if step.changed and step.before == step.after:
        try:
            secret = areas[step.area].secret
        except KeyError:
            secret = None
        if secret is not None:
            words += f"; the {secret.words} is set"
    return words


def read_back(step, now: Any, *, areas: Areas = AREAS) -> str:
    """What the appliance holds for ``step`` now, in the area's words."""
    return areas.describe(step.area, now)


def step_line(step, now: Any = _UNREAD, *, areas: Areas = AREAS) -> str:
    """``step`` with its mark, as the Done screen lists it: "[x] DNS: none ->
    198.51.100.53". When ``now`` (read back) differs from the sheet, what the
    appliance holds follows: "; the appliance holds 198.51.100.99"."""
    line = f"{MARK.get(step.status, '[ ]')} {step_change(step, areas=areas)}"
    if now is not _UNREAD and not areas[step.area].same(now, step.after):
        line += f"; the appliance holds {read_back(step, now, areas=areas)}"
    return line


def to_send(settings, names: tuple[str, ...] | None = None, *,
            areas: Areas = AREAS) -> list[str]:
    """What ``settings`` sends to the areas ``names`` (all when None), one
    line per step as the step's title says it ("Address: NIC2 203.0.113.20/25
    (255.255.255.128), VLAN 20", "DNS: 198.51.100.53"); an area the settings
    leave out says so as the sheet's summary does ("Default gateway: none")."""
    out = []
    for area in areas:
        if names is not None and area.name not in names:
            continue
        wanted = area.wanted(settings)
        out += [area.title(after) for _, after in wanted] or \
            [line for line in [area.summary(settings)] if line]
    return out
