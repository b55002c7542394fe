"""Step 5: the appliance's production network settings, checked as typed.

Pre-filled from the sheet (or one empty address when entering by hand). Every
address of the sheet is a row of its own (NIC, address, netmask or prefix,
VLAN); ^n adds one, ^r removes the one the cursor is in. What is typed here
replaces the sheet's addresses, gateway, host name and DNS servers for this
run; the sheet file itself is not changed. What was typed survives Esc (back a
step) and coming forward again. Below the fields, what goes to the appliance
is said as the Restore step and the report say it (``hwprobe.settings.wording``).
"""
from __future__ import annotations

import dataclasses
import itertools

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, Static

from hwprobe.settings import validate as v
from hwprobe.settings import wording
from hwprobe.settings.areas import AREAS
from hwprobe.appliance.state import IpAddress, Settings
from hwprobe.safetext import nic_name

from ..widgets import drafts
from ..widgets.fields import Field
from .base import StepScreen

# what this step sets besides the addresses: the areas typed in one field each
# (gateway, host name, DNS servers), each checked as its module says
TYPED = tuple(area for area in AREAS if area.typed is not None)
IP_COLUMNS = (                      # (key, placeholder)
    ("nic", "nic1"),
    ("address", "198.51.100.20"),
    ("netmask", "255.255.255.0 or 24"),
    ("vlan", "none"),
)


def _ip_problems(row: dict[str, str], earlier: list[dict[str, str]]) -> list[str]:
    nic, address = row["nic"].strip().lower(), row["address"].strip()
    netmask, vlan = row["netmask"].strip(), row["vlan"].strip()
    out = []
    if v.check_nic(nic):             # said short: its line under the row has 62 columns
        out.append(f"NIC {v.quote(nic)}: the appliance has "
                   + " and ".join(v.quote(n) for n in v.NICS))
    address_bad = v.check_ipv4(address)
    mask_bad = v.check_netmask(netmask)
    if address_bad:
        out.append(f"address {address_bad}")
    if mask_bad:
        out.append(f"netmask {mask_bad}")
    if not address_bad and not mask_bad:
        if problem := v.check_host_address(address, v.to_netmask(netmask)):
            out.append(problem)
    if vlan and vlan.lower() not in ("-", "none"):
        out += [p for p in [v.check_vlan(int(vlan)) if vlan.isdigit() else
                            v.check_vlan(vlan)] if p]
    if not address_bad and any(e["address"].strip() == address for e in earlier):
        out.append(f"{address} is listed twice")
    return out


def problems_of(rows: list[dict[str, str]], values: dict[str, str]) -> dict[str, str]:
    """Every problem of the step (``ip1``, ``ip2``... for address rows, then
    each typed area by name: ``gateway``, ``hostname``, ``dns``) -> a message;
    empty when all is good.

    ``rows``: each address as typed (nic, address, netmask, vlan);
    ``values``: each typed area's text, by area name."""
    out: dict[str, str] = {}
    for i, row in enumerate(rows):
        found = _ip_problems(row, rows[:i])
        if found:
            out[f"ip{i + 1}"] = "; ".join(found)
    if not rows:
        out["ip1"] = "the appliance needs at least one address: ^n adds one"
    given = [None if f"ip{i + 1}" in out else (r["address"].strip(), r["netmask"].strip())
             for i, r in enumerate(rows)]
    for area in TYPED:
        if problem := area.typed.problem(area, values[area.name].strip(), given):
            out[area.name] = problem
    return out


def _one_line(text: str, box: Static) -> str:
    """``text`` made to fit the one row its problem line keeps, when it can:
    too long, each of its problems loses its closing explanation in brackets.
    Still too long (two problems at once), it wraps onto a second row."""
    width = box.content_size.width or max(box.app.size.width - 18, 20)
    if len(text) <= width:
        return text
    parts = [part[:part.rindex(" (")] if part.endswith(")") and " (" in part else part
             for part in text.split("; ")]
    return "; ".join(parts)


def _ip_of(row: dict[str, str]) -> IpAddress:
    """One address row as typed (it must have passed ``problems_of``)."""
    vlan = row["vlan"].strip()
    return IpAddress(row["nic"].strip().lower(), row["address"].strip(),
                     v.to_netmask(row["netmask"].strip()), int(vlan) if vlan.isdigit() else None)


def _sheet_values(s: Settings) -> dict:
    ips = [{"nic": ip.nic, "address": ip.address, "netmask": ip.netmask,
            "vlan": "" if ip.vlan is None else str(ip.vlan)} for ip in s.ips]
    return {"ips": ips or [{"nic": "nic1", "address": "", "netmask": "255.255.255.0", "vlan": ""}],
            **{area.name: area.typed.text(s) for area in TYPED}}


class NetworkScreen(StepScreen):
    STEP = "network"
    CSS_PATH = "network.tcss"
    HINT = ("The appliance's production settings, from the sheet: change what differs, "
            "each value is checked as you type. ^g (or Enter on DNS) goes on.")
    BINDINGS = [
        Binding("ctrl+g", "next", "Next", id="next", key_display="^g"),
        Binding("ctrl+n", "add_address", "Add address", id="add-address", key_display="^n"),
        Binding("ctrl+r", "remove_address", "Remove address", id="remove-address",
                key_display="^r"),
    ]

    def compose_body(self) -> ComposeResult:
        self._serial = itertools.count(1)
        self.row_keys: list[int] = []
        sheet = self.session.settings or Settings()
        draft = drafts.recall(self.session, self.STEP)
        values = draft["values"] if draft and draft.get("sheet") == self.session.sheet_path \
            else _sheet_values(sheet)
        with VerticalScroll(classes="body", id="network-form"):
            with Horizontal(classes="row", id="ip-heading"):
                yield Label("", classes="label")
                for key, _ in IP_COLUMNS:
                    yield Label({"nic": "NIC", "address": "Address", "netmask": "Netmask",
                                 "vlan": "VLAN"}[key], classes=f"heading {key}")
            for ip in values["ips"]:
                yield from self._address_row(ip)
            for area in TYPED:
                with Horizontal(classes="row"):
                    yield Label(area.typed.label, classes="label")
                    yield Field(values[area.name], id=area.name, placeholder=area.typed.placeholder)
                yield Static("", id=f"{area.name}-problem", classes="problem", markup=False)
            yield Static("", id="to-appliance", markup=False)

    def _address_row(self, ip: dict[str, str]) -> list:
        """The widgets of one address: its row of fields, and its problem line."""
        key = next(self._serial)
        self.row_keys.append(key)
        row = Horizontal(
            Label(f"Address {len(self.row_keys)}", classes="label", id=f"ip-label-{key}"),
            *(Field(ip[column], id=f"{column}-{key}", placeholder=placeholder,
                    classes=f"ip-cell {column}") for column, placeholder in IP_COLUMNS),
            classes="row ip-row", id=f"ip-row-{key}")
        return [row, Static("", id=f"ip-problem-{key}", classes="problem", markup=False)]

    def on_mount(self) -> None:
        first = self.row_keys[0] if self.row_keys else None
        self.query_one(f"#address-{first}" if first else "#gateway", Field).focus()
        self._check()
        if self.session.cable_nic_known:        # read off the appliance at Log in
            self.say(f"The laptop's cable is in the appliance's {nic_name(self.session.cable_nic)}.")

    # --- values ---------------------------------------------------------------------
    def _rows(self) -> list[dict[str, str]]:
        return [{column: self.query_one(f"#{column}-{key}", Field).value
                 for column, _ in IP_COLUMNS} for key in self.row_keys]

    def _values(self) -> dict[str, str]:
        return {area.name: self.query_one(f"#{area.name}", Field).value for area in TYPED}

    def _check(self) -> dict[str, str]:
        found = problems_of(self._rows(), self._values())
        for i, key in enumerate(self.row_keys):
            box = self.query_one(f"#ip-problem-{key}", Static)
            text = found.get(f"ip{i + 1}", "")
            box.update(_one_line(text, box))
        for area in TYPED:
            box = self.query_one(f"#{area.name}-problem", Static)
            box.update(_one_line(found.get(area.name, ""), box))
        drafts.keep(self.session, self.STEP, {"sheet": self.session.sheet_path,
                                              "values": {"ips": self._rows(), **self._values()}})
        self.query_one("#to-appliance", Static).update(
            "To the appliance:\n" + "\n".join("  " + line for line in self._to_send(found)))
        return found

    def _to_send(self, found: dict[str, str]) -> list[str]:
        """What goes to the appliance, one line per address and per setting, as
        the Restore step says it; a value with a problem keeps its line, which
        says to fix it. Every line keeps its place as the technician types (on a
        serial line only what changed is sent), the problem lines too."""
        out = []
        if not self.row_keys:
            out.append(f"{AREAS['ip'].label}: {found.get('ip1', 'none')}")
        for i, row in enumerate(self._rows()):
            if f"ip{i + 1}" in found:
                out.append(f"{AREAS['ip'].label}: fix Address {i + 1} above")
            else:
                out += wording.to_send(dataclasses.replace(Settings(), ips=[_ip_of(row)]),
                                       ("ip",))
        typed = self._typed(ips=[])         # the rows may not parse: said above, one by one
        for area in TYPED:
            out += ([f"{area.label}: fix it above"] if area.name in found
                    else wording.to_send(typed, (area.name,)))
        return out

    def on_input_changed(self, event: Input.Changed) -> None:
        if self.is_mounted:
            self._check()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == TYPED[-1].name:
            self.action_next()
        else:
            self.focus_next()

    # --- rows -----------------------------------------------------------------------
    async def action_add_address(self) -> None:
        rows = self._rows()
        mask = rows[-1]["netmask"] if rows else "255.255.255.0"
        before = self.query_one("#gateway").parent
        widgets = self._address_row({"nic": "nic1", "address": "", "netmask": mask,
                                     "vlan": ""})
        await self.query_one("#network-form").mount_all(widgets, before=before)
        self._relabel()
        self.query_one(f"#address-{self.row_keys[-1]}", Field).focus()
        self._check()
        self.say(f"Address {len(self.row_keys)} added: type it, Tab moves on.")

    async def action_remove_address(self) -> None:
        if len(self.row_keys) < 2:
            self.say("The appliance needs at least one address.", "warning")
            return
        focused = self.focused
        key = next((k for k in self.row_keys if focused is not None
                    and focused.id and focused.id.endswith(f"-{k}")
                    and focused.id.split("-")[0] in dict(IP_COLUMNS)), None)
        if key is None:
            self.say("Put the cursor in the address to remove, then ^r.", "warning")
            return
        index = self.row_keys.index(key)
        self.row_keys.remove(key)
        await self.query_one(f"#ip-row-{key}").remove()
        await self.query_one(f"#ip-problem-{key}").remove()
        self._relabel()
        self.query_one(f"#address-{self.row_keys[min(index, len(self.row_keys) - 1)]}",
                       Field).focus()
        self._check()
        self.say(f"Address {index + 1} removed (only for this run; the sheet is unchanged).")

    def _relabel(self) -> None:
        for i, key in enumerate(self.row_keys, 1):
            self.query_one(f"#ip-label-{key}", Label).update(f"Address {i}")

    # --- on -------------------------------------------------------------------------
    def action_next(self) -> None:
        found = self._check()
        if found:
            first = next(iter(found))
            target = (f"#address-{self.row_keys[int(first[2:]) - 1]}"
                      if first.startswith("ip") and self.row_keys else f"#{first}")
            self.query_one(target, Field).focus()
            self.say(f"{len(found)} value(s) to fix before going on.", "warning")
            return
        self.session.settings = self._typed()
        self.app.goto("restore")

    def _typed(self, ips: list[IpAddress] | None = None) -> Settings:
        """The sheet with what is typed here in place of its network settings
        (the values must have passed ``problems_of``); ``ips`` in place of the
        address rows, when given."""
        values = self._values()
        if ips is None:
            ips = [_ip_of(row) for row in self._rows()]
        typed = {k: x for area in TYPED for k, x in area.typed.into(values[area.name].strip()).items()}
        return dataclasses.replace(self.session.settings or Settings(), ips=ips, **typed)
