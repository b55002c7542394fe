"""Step 5: the appliance's production network settings, checked as typed.

Pre-filled from the sheet (or empty when entering by hand). What is typed here
replaces the sheet's first address, the gateway, the host name and the DNS
servers for this run; the sheet file itself is not changed.
"""
from __future__ import annotations

import dataclasses

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, Static

from hwprobe import validate as v
from hwprobe.state import IpAddress, Settings

from ..widgets.fields import Field
from .base import StepScreen

FIELDS = (
    ("nic", "NIC", "nic1 or nic2"),
    ("address", "Address", "e.g. 198.51.100.20"),
    ("netmask", "Netmask", "e.g. 255.255.255.0 or 24"),
    ("gateway", "Gateway", "e.g. 198.51.100.1"),
    ("hostname", "Host name", "e.g. support.example.net"),
    ("dns", "DNS servers", "comma separated, e.g. 198.51.100.53"),
)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(" ", ",").split(",") if part.strip()]


def problems_of(values: dict[str, str], other_ips: list[IpAddress]) -> dict[str, str]:
    """Every field's problem (field name -> message); empty when all is good."""
    out: dict[str, str] = {}
    nic, address, netmask = values["nic"].strip().lower(), values["address"].strip(), values["netmask"].strip()
    out["nic"] = v.check_nic(nic) or ""
    out["address"] = v.check_ipv4(address) or ""
    out["netmask"] = v.check_netmask(netmask) or ""
    if not out["address"] and not out["netmask"]:
        out["address"] = v.check_host_address(address, v.to_netmask(netmask)) or ""
    gateway = values["gateway"].strip()
    if gateway:
        out["gateway"] = v.check_ipv4(gateway) or ""
        if not out["gateway"] and not out["address"] and not out["netmask"]:
            subnets = [(address, netmask)] + [(ip.address, ip.netmask) for ip in other_ips]
            out["gateway"] = v.gateway_in_subnets(gateway, subnets) or ""
    hostname = values["hostname"].strip()
    out["hostname"] = (v.check_hostname(hostname) or "") if hostname else ""
    dns = _split(values["dns"])
    out["dns"] = next((f"{p}" for p in (v.check_ipv4(d) for d in dns) if p), "")
    return {k: m for k, m in out.items() if m}


class NetworkScreen(StepScreen):
    STEP = "network"
    CSS_PATH = "network.tcss"
    HINT = ("The appliance's production settings, from the sheet. Change what differs; "
            "each value is checked as you type. Enter on the last field goes on.")
    BINDINGS = [
        Binding("ctrl+g", "next", "Next", id="next", key_display="^g"),
    ]

    def compose_body(self) -> ComposeResult:
        s: Settings = self.session.settings or Settings()
        first = s.ips[0] if s.ips else None
        values = {
            "nic": first.nic if first else "nic1",
            "address": first.address if first else "",
            "netmask": first.netmask if first else "255.255.255.0",
            "gateway": s.default_gateway, "hostname": s.hostname,
            "dns": ", ".join(s.dns_servers),
        }
        with VerticalScroll(classes="body"):
            for name, label, placeholder in FIELDS:
                with Horizontal(classes="row"):
                    yield Label(label, classes="label")
                    yield Field(values[name], id=name, placeholder=placeholder)
                yield Static("", id=f"{name}-problem", classes="problem", markup=False)
            others = s.ips[1:]
            if others:
                yield Static("Also from the sheet: " + ", ".join(
                    f"{ip.address} {ip.netmask} on {ip.nic.upper()}" for ip in others),
                    id="others", markup=False)

    def on_mount(self) -> None:
        self.query_one("#address", Field).focus()
        self._check()

    def _values(self) -> dict[str, str]:
        return {name: self.query_one(f"#{name}", Field).value for name, _, _ in FIELDS}

    def _check(self) -> dict[str, str]:
        s = self.session.settings or Settings()
        found = problems_of(self._values(), s.ips[1:])
        for name, _, _ in FIELDS:
            box = self.query_one(f"#{name}-problem", Static)
            box.update(found.get(name, ""))
            box.display = name in found
        return found

    def on_input_changed(self, event: Input.Changed) -> None:
        self._check()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == FIELDS[-1][0]:
            self.action_next()
        else:
            self.focus_next()

    def action_next(self) -> None:
        found = self._check()
        if found:
            first = next(name for name, _, _ in FIELDS if name in found)
            self.query_one(f"#{first}", Field).focus()
            self.say(f"{len(found)} value(s) to fix before going on.", "warning")
            return
        values = self._values()
        s = self.session.settings or Settings()
        ip = IpAddress(values["nic"].strip().lower(), values["address"].strip(),
                       v.to_netmask(values["netmask"].strip()),
                       s.ips[0].vlan if s.ips else None)
        self.session.settings = dataclasses.replace(
            s, ips=[ip, *s.ips[1:]], default_gateway=values["gateway"].strip(),
            hostname=values["hostname"].strip(), dns_servers=_split(values["dns"]))
        self.app.goto("restore")
