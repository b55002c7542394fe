"""The bring-up console: the App, its profile, and which step screen shows.

``bringup.console.make_app(argv)`` (the composition root) builds the app the
``bringup`` command runs and the tests drive; ``run_app(app)`` runs it and
returns the exit status.
The screens (one per step, ``tui/screens/``) do the work; this file only routes.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.screen import Screen
from textual.scrollbar import ScrollBar
from textual.worker import Worker, WorkerState

from hwprobe.constants import FACTORY_ADDRESSES, LAPTOP_ADDRESS
from hwprobe.errors import BringupError

from . import profile as profiles, terminfo
from .extras import LabExtras
from .options import add_console_arguments
from .messages import PortGivenBack
from .screens.base import explain
from .session import (STEPS, Session, clear_progress, load_progress, release_progress,
                      save_progress)
from .typeahead import MOVES, TypeAhead
from .widgets.safe import ControlFilter

if TYPE_CHECKING:
    from hwprobe.procedure.session import BringupSession

SCREENS = {
    "start": "tui.screens.start:StartScreen",
    "port": "tui.screens.port:PortScreen",
    "find": "tui.screens.find:FindScreen",
    "login": "tui.screens.login:LoginScreen",
    "network": "tui.screens.network:NetworkScreen",
    "restore": "tui.screens.restore:RestoreScreen",
    "site": "tui.screens.site:SiteScreen",
    "done": "tui.screens.done:DoneScreen",
}
ORDER = [key for key, _ in STEPS]
# the recovery paths (the ^o list, then one screen each, over the start screen):
# key -> "module:Class" and its argument; "hardware" is the start screen itself
PATH_SCREENS: dict[str, tuple[str, str | None]] = {
    "paths": ("tui.screens.paths:PathsScreen", None),
    "failover": ("tui.screens.failover:FailoverScreen", None),
    "cold_spare": ("tui.screens.checklist:ChecklistScreen", "cold_spare"),
    "virtual": ("tui.screens.checklist:ChecklistScreen", "virtual"),
    "rma": ("tui.screens.rma:RmaScreen", None),
    "hosted": ("tui.screens.checklist:ChecklistScreen", "hosted"),
    "saas": ("tui.screens.checklist:ChecklistScreen", "saas"),
    "readiness": ("tui.screens.readiness:ReadinessScreen", None),
    "kit": ("tui.screens.kit:KitScreen", None),
}
# mouse reports off, cursor shown, the main screen back (what Textual's own exit writes)
LEAVE_FULL_SCREEN = b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?25h\x1b[?1049l"
STOP_GRACE = 40.0     # seconds a step in flight may take to end when the console must leave
# styles of the first screen, parsed with the app's own: shown later, they
# would make Textual parse every stylesheet again before the first frame
FIRST_SCREEN_CSS = [p for p in (Path(__file__).with_name("screens") / "start.tcss",) if p.exists()]


@dataclass
class ConsoleOptions:
    """What the command line can say to the console."""

    sheet: str | None = None
    kit: str | None = None                   # a recovery kit: its sheet, then the Site step
    iface: str | None = None
    console_profile: bool | None = None     # None: decide from TERM / the tty
    force: bool = False
    lab: str | None = None                   # practising against this demo lab
    extras: "LabExtras | None" = None        # the demo lab's extras (handed in, see tui/extras.py)
    addresses: tuple[str, ...] = FACTORY_ADDRESSES
    laptop_address: str = LAPTOP_ADDRESS
    probe_timeout: float = 1.0
    listen_seconds: float = 5.0              # after a silent search (0: do not listen)
    resume: bool = True                      # offer to continue an unfinished run
    handle_signals: bool = False             # run_app sets it; tests do not

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "ConsoleOptions":
        keys = ("sheet", "kit", "iface", "console_profile", "force", "lab")
        options = cls(**{k: getattr(args, k) for k in keys if getattr(args, k, None) is not None})
        if getattr(args, "listen", None) is not None:
            options.listen_seconds = args.listen
        return options


def parse_options(argv: list[str]) -> ConsoleOptions:
    """Console options from an argv list; argparse exits 2 on bad input."""
    parser = argparse.ArgumentParser(prog="bringup")
    add_console_arguments(parser)
    return ConsoleOptions.from_args(parser.parse_args(argv))


def _class_of(target: str) -> type[Screen]:
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def _screen_class(step: str) -> type[Screen]:
    return _class_of(SCREENS[step])


class BringupApp(App[int]):
    """The console. ``session`` carries what the steps hand to each other."""

    CSS_PATH = "app.tcss"
    TITLE = "bringup"
    BINDINGS = [
        # ^x, not only ^q: ^q is XON, which a serial line with flow control swallows
        Binding("ctrl+x,ctrl+q", "ask_quit", "Quit", id="quit", key_display="^x", priority=True),
        # Ctrl-C is a key here (the terminal is raw): the same question as ^x,
        # and "stop after the step in flight, or go on" while Apply or the
        # finish of the site runs
        Binding("ctrl+c", "ask_quit(True)", "Quit", id="interrupt", show=False, priority=True),
        Binding("ctrl+l", "redraw", "Redraw", id="redraw", key_display="^l", show=False),
        Binding("ctrl+t", "toggle_serial", "Serial", id="serial", key_display="^t"),
    ]

    def __init__(self, options: ConsoleOptions):
        self.options = options
        self.profile = profiles.detect(options.console_profile)
        css = [profiles.CONSOLE_CSS] if self.profile.console else []
        # TERM=linux/vt100/vt220: only what the terminfo entry has (tui/terminfo.py)
        driver = None
        if terminfo.restricted(os.environ.get("TERM")):
            from .vtdriver import TerminfoDriver as driver
        super().__init__(driver_class=driver, css_path=[self.CSS_PATH, *css, *FIRST_SCREEN_CSS])
        self.session = Session(sheet_path=options.sheet, lab=options.lab,
                               kit_folder=options.kit)
        self.farewell = ""                     # printed when the console ends
        self.interrupted = False                # SIGINT: leave as quitting does, exit 130
        self.ascii_filter = profiles.AsciiFilter(enabled=self.profile.console)
        self.control_filter = ControlFilter()      # appliance text never drives the terminal
        self._use_theme(self.profile.theme)
        self._shadow = None
        self.typeahead = TypeAhead(self, self._input_event)
        if self.profile.console:
            self.animation_level = "none"
            ScrollBar.renderer = profiles.AsciiScrollBarRender
            from .shadow import ShadowScreen

            self._shadow = ShadowScreen()      # send only the cells that changed

    # --- profile -----------------------------------------------------------------
    def _use_theme(self, name: str) -> None:
        """Choose the theme before the styles are first parsed: assigning
        ``self.theme`` here would parse every stylesheet a second time at start."""
        if self.theme == name:
            return
        self.set_reactive(App.theme, name)
        self.stylesheet.set_variables(self.get_css_variables())
        theme = self.current_theme
        self.set_class(True, f"-theme-{name}", update=False)
        self.set_class(theme.dark, "-dark-mode", update=False)
        self.set_class(not theme.dark, "-light-mode", update=False)
        self.ansi_color = theme.ansi            # the truecolor filter follows the theme

    def get_line_filters(self):
        filters = list(super().get_line_filters())
        if self.no_color:
            from textual.filter import Monochrome

            if not hasattr(self, "_no_color_filter"):
                self._no_color_filter = profiles.NoColorFilter()
            filters = [f for f in filters if not isinstance(f, Monochrome)]
            filters.append(self._no_color_filter)
        filters.append(self.control_filter)
        return [*filters, self.ascii_filter] if self.profile.console else filters

    def action_command_palette(self) -> None:
        if not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(id="--command-palette",
                                            placeholder="Type to search actions..."))

    def get_system_commands(self, screen) -> Iterable[SystemCommand]:
        commands = getattr(screen, "palette_commands", None)
        if commands:
            yield from commands()
        yield SystemCommand("Give the laptop port back now",
                            "Puts the port back as it was; the flow returns to Port",
                            self.action_give_back)
        yield SystemCommand("Keys", "Show every key of this screen", self.action_show_help_panel)
        yield SystemCommand("Quit", "Give the port back and leave", self.action_ask_quit)
        yield SystemCommand("Redraw the screen", "After line noise on a serial line (^l)",
                            self.action_redraw)

    # --- keys ---------------------------------------------------------------------
    async def on_event(self, event) -> None:
        from textual import events

        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            if self.typeahead.holding:       # typed after Enter/Tab in a field: wait
                self.typeahead.hold(event)
                return
            await self._input_event(event)
            return
        await super().on_event(event)

    async def _input_event(self, event) -> None:
        """One key or paste from the terminal, as Textual handles it; after Enter
        or Tab in a text field the keys that follow wait for it (tui/typeahead.py)."""
        from textual import events
        from textual.app import ScreenStackError
        from textual.widgets import Input

        try:
            field = self.focused
        except ScreenStackError:             # no screen yet (or any more)
            field = None
        await super().on_event(event)
        if (isinstance(event, events.Key) and event.key in MOVES and isinstance(field, Input)
                and field.is_attached):
            self.typeahead.start(field)

    # --- start and routing --------------------------------------------------------
    def on_mount(self) -> None:
        if self.options.handle_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGHUP):
                loop.add_signal_handler(sig, self.action_quit_console)
            # Ctrl-C from the shell (or kill -INT): the same way out, and the
            # exit status a shell expects of an interrupted command (130)
            loop.add_signal_handler(signal.SIGINT, self._interrupted)
            self._watch_for_hang_up()
        self.push_screen(_screen_class("start")())
        # netlink is first needed at Find, seconds away: let the first frames out first
        self.set_timer(1.0, self._load_slow_modules)
        previous = load_progress(self.options.lab) if self.options.resume else None
        if previous:
            from .screens.resume import ResumeScreen
            self.push_screen(ResumeScreen(previous), self._resume)

    def _watch_for_hang_up(self) -> None:
        """A terminal that goes away without SIGHUP (it was not the process's
        controlling terminal) leaves the console reading end-of-file forever,
        holding the laptop port: treat the hang-up as SIGHUP. The thread sleeps
        in poll() until then, so an idle console still writes and wakes nothing."""
        import os
        import select
        import threading

        if not os.isatty(0):
            return

        def watch() -> None:
            poller = select.poll()
            poller.register(0, 0)            # only hang-up and error are reported
            while not any(event & (select.POLLHUP | select.POLLERR | select.POLLNVAL)
                          for _, event in poller.poll()):
                pass
            try:
                self.call_from_thread(self.action_quit_console)
            except RuntimeError:             # the console is already ending
                pass

        threading.Thread(target=watch, name="hang-up watch", daemon=True).start()

    @work(thread=True, exit_on_error=False, group="warmup")
    def _load_slow_modules(self) -> None:
        """pyroute2 costs about half a second to import: do it after the first frame."""
        importlib.import_module("hwprobe.port.probe").preload()

    def _resume(self, previous: dict | None) -> None:
        if not previous:
            clear_progress()
            return
        self.session.sheet_path = previous.get("sheet") or self.session.sheet_path
        self.session.kit_folder = previous.get("kit") or self.session.kit_folder
        self.options.iface = previous.get("iface") or self.options.iface
        self.screen.resume_from(previous)

    def goto(self, step: str) -> None:
        """Show ``step``'s screen (the one before it counts as done)."""
        here = self.screen.STEP if hasattr(self.screen, "STEP") else None
        if here and ORDER.index(step) > ORDER.index(here):
            self.session.done.add(here)
        save_progress(self.session, step)
        if step == "done":
            self.session.done.add("done")
        self.switch_screen(_screen_class(step)())

    def go_back(self, step: str) -> None:
        index = ORDER.index(step)
        if index > 0:
            target = ORDER[index - 1]
            self.session.done.discard(target)
            self.switch_screen(_screen_class(target)())

    def open_path(self, key: str, facts: dict | None = None) -> Screen | None:
        """Push the screen of recovery path ``key`` (or "paths", their list)
        and return it; for "hardware", go back to the start screen (the
        bring-up flow) and return None. ``facts`` (triage answers: snapshot,
        cloud) leave out a checklist's steps that do not apply."""
        if key == "hardware":
            self.back_to_start()
            return None
        target, argument = PATH_SCREENS[key]
        cls = _class_of(target)
        screen = cls(argument, facts=facts or {}) if argument else cls()
        self.push_screen(screen)
        return screen

    def back_to_start(self) -> Screen:
        """Close every screen above the start screen; returns the start screen."""
        start = _screen_class("start")
        while not isinstance(self.screen, start) and len(self.screen_stack) > 1:
            self.pop_screen()
        return self.screen

    # --- leaving -------------------------------------------------------------------
    def unfinished(self) -> bool:
        """Work would be left half done: the port is held, or some steps are done
        and the run has not reached Done."""
        started = bool(self.session.done - {"start"}) or self.session.takeover is not None
        return started and "done" not in self.session.done

    def action_ask_quit(self, ctrl_c: bool = False) -> None:
        """The Quit key (^x) and Ctrl-C: asks first when the run is unfinished
        (signals do not ask); while Apply or the finish of the site runs,
        whether to stop after the step in flight. Ctrl-C answered yes leaves
        with 130, as a shell expects."""
        from .screens.quit import QuitScreen

        if isinstance(self.screen, QuitScreen):
            return
        port = self.session.takeover.iface if self.session.takeover is not None else None
        applying = self._applying()
        if applying is not None:
            def stop(yes: bool) -> None:
                if yes:
                    self.interrupted = self.interrupted or ctrl_c
                    applying.stop_after_step(then_quit=True)
            self.push_screen(QuitScreen([], port, applying.stop_note(),
                                        applying=applying.WORK), stop)
            return
        if not self.unfinished():
            self.action_quit_console()
            return
        left = [t for t in self.session.left_undone() if not t.startswith("not applied")]
        note = getattr(self.screen, "quit_note", lambda: "")()

        def leave(yes: bool) -> None:
            if yes:
                self.interrupted = self.interrupted or ctrl_c
                self.action_quit_console()
        self.push_screen(QuitScreen(left, port, note), leave)

    def _applying(self):
        """The Restore screen while its run applies, or the Site screen while
        it finishes the site (else None): each stops after its step in
        flight (``stop_after_step``)."""
        for screen in reversed(self.screen_stack):
            if getattr(screen, "STEP", None) in ("restore", "site") \
                    and getattr(screen, "running", False):
                return screen
        return None

    def _display(self, screen, renderable) -> None:
        # the console profile (a serial line, a KVM) gets only what changed
        from textual._compositor import CompositorUpdate

        if (self._shadow is not None and isinstance(renderable, CompositorUpdate)
                and not self.is_inline):
            renderable = self._shadow.wrap(renderable)
        super()._display(screen, renderable)

    def on_resize(self) -> None:
        if self._shadow is not None:
            self._shadow.forget()              # the terminal may have reflowed its lines

    def action_redraw(self) -> None:
        """^l: paint the whole screen again (line noise, a terminal that was reset)."""
        if self._shadow is not None:
            self._shadow.forget()
        self.refresh(repaint=True, layout=True)
        self.screen.refresh(repaint=True, layout=True)

    def _interrupted(self) -> None:
        self.interrupted = True
        self.action_quit_console()

    def action_quit_console(self) -> None:
        applying = self._applying()
        if applying is not None:
            # a signal or a dropped line mid-Apply or mid-finish: the step in
            # flight ends first (its save and read-back, its upload), then the
            # console leaves; a step that hangs does not hold the port longer
            # than STOP_GRACE
            if not applying.stopping:
                applying.stop_after_step(then_quit=True)
                self.set_timer(STOP_GRACE, self._quit_now)
            return
        self._quit_now()

    def _quit_now(self) -> None:
        if self.session.bringup is not None:
            self._give_back(self.session.bringup, then_exit=True, sheet=self.session.sheet_path,
                            kit=self.session.kit_folder)
        else:
            self._leave([])

    def action_give_back(self) -> None:
        if self.session.takeover is not None:
            self._give_back(self.session.bringup, then_exit=False)

    @work(thread=True, exclusive=True, exit_on_error=False, group="giveback")
    def _give_back(self, bringup: BringupSession, then_exit: bool,
                   sheet: str | None = None, kit: str | None = None) -> None:
        """Log out and give the laptop port back (through the bring-up session).
        Leaving once an appliance was found writes the run's report, saying
        where it stopped, when no run wrote one."""
        if then_exit and bringup.responder is not None and bringup.report_paths is None:
            try:
                bringup.write_report(sheet=sheet, kit=kit)
            except OSError:             # the port matters more than the report
                pass
        try:
            bringup.close()
        except BringupError:
            if then_exit:       # leave all the same: run_app tries once more, and says so
                self.post_message(PortGivenBack(bringup.target.iface, [], then_exit=True))
            raise
        takeover = bringup.takeover
        notes = list(takeover.notes[-2:]) if takeover is not None else []
        self.post_message(PortGivenBack(bringup.target.iface, notes, then_exit))

    def on_port_given_back(self, message: PortGivenBack) -> None:
        self.session.port_notes = message.notes
        if message.then_exit:
            self._leave(message.notes[-1:])
        elif hasattr(self.screen, "port_given_back"):
            self.screen.port_given_back(message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "giveback":
            # the port could not be put back: say so and how to finish it
            self.notify(explain(event.worker.error, "giving the port back")
                        + " - `bringup restore-link` tries again", severity="error",
                        timeout=15)

    def _leave(self, notes: list[str]) -> None:
        words, status = self.session.last_words(notes)
        if "done" in self.session.done or not self.session.left_undone():
            clear_progress()                # nothing left for the next start to offer
        else:
            release_progress()              # offered at once, even while this one ends
        if self.interrupted:
            status = 130
        self.farewell = words
        self.exit(status, return_code=status, message=self.farewell or None)

    def action_toggle_serial(self) -> None:
        from .widgets.serial_pane import SerialPane

        panes = self.screen.query(SerialPane)
        if panes:
            panes.first().toggle()
        else:
            self.notify("The serial console opens from the Find and Login steps.")


def run_app(app: BringupApp) -> int:
    """Run the console full-screen; returns the exit status (0 done, 1 left
    undone). The laptop port is given back on every way out."""
    from hwprobe import stopping

    app.options.handle_signals = True
    # a signal before the console's own handlers are in place ends it at once
    # (hwprobe/stopping.py): the terminal is left as found, not full-screen
    if os.isatty(1):
        stopping.on_the_way_out(LEAVE_FULL_SCREEN)
    try:
        app.run(mouse=not app.profile.console)
    finally:
        bringup = app.session.bringup
        if bringup is not None:        # logs out of the local console, leaves it as found
            held = app.session.takeover is not None
            try:
                bringup.close()
            except BringupError as exc:
                print(f"{exc} - `bringup restore-link` tries again")
            else:
                if held:
                    print("\n".join(bringup.takeover.notes[-1:]))
    return app.return_code or 0
