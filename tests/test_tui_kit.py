"""The console's recovery kit (^r on the start screen) and its Readiness
screen checking a kit, at 80x24 in the console profile, keyboard only. The
kit is taken from the shared site lab (conftest.site_lab): the app's workers
run inside the lab's laptop namespace."""
from __future__ import annotations

import json

import pytest

from bringup.console import make_app
from hwprobe.settings.kit import MANIFEST
from simulator.lab import PAIR
from test_tui_flow import screen_text, wait_for
from test_tui_runbook import run
from tui.screens.kit import KitScreen
from tui.screens.paths import PATH_KEYS, PathsScreen
from tui.screens.readiness import ReadinessScreen
from tui.screens.start import StartScreen

KIT_ENV = {"BRINGUP_BACKUP_PASSWORD": "Console-Backup-Pw-3",
           "BRINGUP_CERTIFICATE_PASSPHRASE": "Console-Passphrase-8"}


@pytest.fixture
def console_env(monkeypatch, state_dir, tmp_path):
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("HOME", str(tmp_path))
    for key in ("BRINGUP_PASSWORD", "BRINGUP_API_CLIENT_ID", "BRINGUP_API_SECRET",
                *KIT_ENV):
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


def console_app():
    app = make_app(["--console-profile"])
    app.options.resume = False
    return app


async def open_kit(pilot) -> None:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, StartScreen), "start screen")
    await wait_for(pilot, lambda: "^r takes a recovery kit" in screen_text(pilot.app),
                   "the offer drawn")
    await pilot.press("ctrl+r")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, KitScreen)
                   and pilot.app.screen.is_mounted, "kit screen")
    await pilot.pause(0.1)


async def type_into(pilot, field_id: str, text: str) -> None:
    pilot.app.screen.query_one(f"#{field_id}").focus()
    await pilot.press(*text)


def test_the_kit_screen_says_which_field_is_missing_and_takes_nothing(console_env):
    app = console_app()
    seen = {}

    async def steps(pilot):
        await open_kit(pilot)
        await pilot.press("ctrl+y")
        seen["empty"] = screen_text(app)
        await type_into(pilot, "kit-address", "198.51.100.20")
        await pilot.press("ctrl+y")
        seen["no folder"] = screen_text(app)
        seen["focus"] = app.focused.id
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, StartScreen), "back to start")

    run(app, steps)
    assert "Appliance: type the healthy appliance's address" in seen["empty"]
    assert "Kit folder: needed" in seen["no folder"] and seen["focus"] == "kit-folder"


@pytest.mark.lab
@pytest.mark.xdist_group("site-lab")
def test_the_console_takes_a_kit_then_readiness_finds_it_fit(site_lab, console_env, tmp_path):
    from simulator import lab as labmod
    from site_helpers import SITE_SECRETS

    for key, value in {**SITE_SECRETS, **KIT_ENV}.items():
        console_env.setenv(key, value)
    folder = tmp_path / "kits" / "support"
    folder.parent.mkdir()
    app = console_app()
    seen = {}

    async def steps(pilot):
        await open_kit(pilot)
        seen["form"] = screen_text(app)
        await type_into(pilot, "kit-address", PAIR["primary"])
        await type_into(pilot, "kit-folder", "~/kits/support")
        await pilot.press("ctrl+y")
        await wait_for(pilot, lambda: app.screen.result is not None or not app.screen.busy,
                       "the kit worker", timeout=60)
        await pilot.pause(0.2)
        seen["done"] = screen_text(app)
        await pilot.press("escape")
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, PathsScreen), "paths list")
        await pilot.press(str(PATH_KEYS.index("readiness") + 1))
        await wait_for(pilot, lambda: isinstance(app.screen, ReadinessScreen), "readiness")
        field = app.screen.query_one("#readiness-sheet")
        field.value = ""
        await type_into(pilot, "readiness-sheet", "~/kits/support")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "The kit is complete and fit" in screen_text(app)
                       or "Not fit" in screen_text(app), "the kit check", timeout=30)
        seen["readiness"] = screen_text(app)

    with labmod.in_netns(site_lab.laptop_ns):
        run(app, steps)
    assert "********" in seen["form"] and SITE_SECRETS["BRINGUP_API_SECRET"] not in seen["form"]
    done = seen["done"]
    assert "The kit is complete and fit" in done, done
    assert "Kit written to ~/kits/support (3 files and the manifest)" in done
    assert "support.example.net, role none" in done
    assert json.loads((folder / MANIFEST).read_text())["appliance"]["serial"] == "B400-0012345"
    assert "The kit is complete and fit to bring a replacement up" in seen["readiness"]
    for secret in (*KIT_ENV.values(), SITE_SECRETS["BRINGUP_PASSWORD"],
                   SITE_SECRETS["BRINGUP_API_SECRET"]):
        assert all(secret not in text for text in seen.values())
