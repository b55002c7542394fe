"""A MAC with ``ab`` and ``cd`` octets (``:ab:`` and ``:cd:`` are Rich emoji
codes) is shown exactly on the Find screen, against a real lab whose appliance
NIC carries that MAC (given to the lab: its MACs are otherwise new each time)."""
from __future__ import annotations

import asyncio

import pytest

from simulator import lab as labmod
from test_tui_flow import app_for, found, screen_text, wait_for, walk_to_find  # noqa: F401

pytestmark = pytest.mark.lab
MAC = "02:b5:ab:cd:00:01"


def test_find_screen_shows_a_mac_with_ab_and_cd_octets_exactly(make_lab, state_dir):
    lab = make_lab(appliance_address="169.254.1.3", macs={"nic1": MAC})
    assert lab.nic_macs["nic1"] == MAC
    app = app_for(lab)
    seen: dict[str, str] = {}

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await walk_to_find(pilot, app, seen)
            await found(pilot, app)
            seen["find"] = screen_text(app)

    with labmod.in_netns(lab.laptop_ns):
        asyncio.run(run())
    assert MAC in seen["find"], seen["find"]
    assert not app.ascii_filter.folded          # no emoji was ever drawn
