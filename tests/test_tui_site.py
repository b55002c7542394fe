"""The console with a recovery kit, no lab needed: a kit's folder typed on
the start screen loads its sheet and adds the Site step (8 steps, not 7); the
Site step shows one row per finish step with what it will do, asks for the
secrets the environment does not give and sends nothing until they are
there; its detail pane shows a row whole. Without a kit the flow keeps its
seven steps."""
from __future__ import annotations

import pytest

from bringup.console import make_app
from finish_helpers import make_kit
from test_tui_flow import screen_text, wait_for
from tui.screens.site import SiteScreen
from tui.screens.start import StartScreen

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "assets" / "example-sheet.toml"
SECRET_VARIABLES = ("BRINGUP_CERTIFICATE_PASSPHRASE", "BRINGUP_BACKUP_PASSWORD",
                    "BRINGUP_API_CLIENT_ID", "BRINGUP_API_SECRET")


@pytest.fixture
def kit(tmp_path) -> Path:
    return make_kit(tmp_path / "kit")


@pytest.fixture
def app(monkeypatch, state_dir, tmp_path):
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("HOME", str(tmp_path))
    for key in SECRET_VARIABLES:
        monkeypatch.delenv(key, raising=False)
    made = make_app(["--console-profile"])
    made.options.resume = False
    return made


def test_a_kit_folder_typed_on_the_start_screen_adds_the_site_step(app, kit):
    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, StartScreen), "start screen")
            await pilot.press(*str(kit), "enter")
            await wait_for(pilot, lambda: "Kit loaded" in screen_text(app), "the kit loaded")
            assert app.session.kit_folder == str(kit)
            assert app.session.settings.hostname == "support.example.net"
            assert "Step 1 of 8: Settings sheet" in screen_text(app)
            summary = str(app.screen.query_one("#summary").content)
            assert "Recovery kit of B400 B400-0012345 (support.example.net)" in summary
            assert "Then the Site step will:" in summary
            assert "Certificate: import certificate-support.example.net-B400.p12" in summary
            assert app.session.after_restore() == "site"
            # at 80x24 the kit's summary runs past the screen's edge: the status
            # line says so, and PgDn shows the Site step's lines
            await wait_for(pilot, lambda: "PgDn/PgUp: the rest of the summary"
                           in " ".join(screen_text(app).split()), "PgDn offered")
            assert "Then the Site step will:" not in screen_text(app)
            await pilot.press("pagedown")
            await wait_for(pilot, lambda: "Then the Site step will:" in screen_text(app),
                           "the Site step's lines shown")

            app.goto("site")
            await wait_for(pilot, lambda: isinstance(app.screen, SiteScreen)
                           and app.screen.is_mounted, "the Site step")
            text = screen_text(app)
            assert "Step 7 of 8: Site" in text
            for row in ("Certificate", "Site software", "/login backup"):
                assert row in text
            for label in ("Key passphrase", "Backup password", "API client id", "API secret"):
                assert label in text
            app.screen.query_one("#site-steps").focus()
            await pilot.press("enter")
            await wait_for(pilot, lambda: "Key passphrase: needed for the finish."
                           in screen_text(app), "the missing secret named")
            assert not app.screen.running           # nothing was started
            assert app.focused.id == "site-certificate_passphrase"
            app.screen.query_one("#site-steps").focus()     # (Space in a field is a space)
            await pilot.press("space")
            await wait_for(pilot, lambda: "Esc close" in screen_text(app), "the detail pane")
            assert "Where: Security > Certificates" in screen_text(app)

    import asyncio
    asyncio.run(go())


def test_without_a_kit_the_flow_keeps_seven_steps(app):
    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, StartScreen), "start screen")
            await pilot.press(*str(EXAMPLE), "enter")
            await wait_for(pilot, lambda: "Sheet loaded" in screen_text(app), "the sheet loaded")
            assert "Step 1 of 7: Settings sheet" in screen_text(app)
            assert app.session.after_restore() == "done"
            assert [k for k, _ in app.session.steps()] == [
                "start", "port", "find", "login", "network", "restore", "done"]

    import asyncio
    asyncio.run(go())
