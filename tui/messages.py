"""Messages the console's workers post to its screens.

Workers never touch a widget: they do the slow, blocking work (netlink, scapy,
HTTPS to the appliance, the serial line) in a thread and post one of these.
Messages where only the newest copy matters set ``can_replace``.

Every message of the console lives here, the widgets' own too (``Tick.Changed``
is ``TickChanged``, so its handler is still ``on_tick_changed``). The core's
types are imported for the type checker only: this module loads no core.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from pathlib import Path

    from textual.widget import Widget

    from hwprobe.procedure.engine import Plan, RunResult, Step
    from hwprobe.appliance.failover import Health, PromoteResult
    from hwprobe.port.heard import Listened
    from hwprobe.port.interfaces import Port
    from hwprobe.port.probe import ProbeResult, Responder
    from hwprobe.appliance.state import ApplianceState
    from hwprobe.procedure.finish.run import FinishResult, Progress
    from hwprobe.procedure.finish.steps import FinishStep
    from hwprobe.procedure.kit import KitResult
    from hwprobe.procedure.verify import VerifyResult
    from hwprobe.runbook.kitcheck import KitReport


class PortsListed(Message):
    """The laptop's ports were read."""

    def __init__(self, ports: list[Port]) -> None:
        self.ports = ports
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PortsListed)


class PortTaken(Message):
    """The laptop port was taken over and holds ``address``."""

    def __init__(self, iface: str, address: str, notes: list[str]) -> None:
        self.iface, self.address, self.notes = iface, address, notes
        super().__init__()


class PortNotTaken(Message):
    """The laptop port was refused (default route, network address): ``text`` says why."""

    def __init__(self, iface: str, text: str) -> None:
        self.iface, self.text = iface, text
        super().__init__()


class PortGivenBack(Message):
    """The laptop port is back as it was (``notes`` say what was put back);
    ``then_exit`` when the console is leaving."""

    def __init__(self, iface: str | None, notes: list[str], then_exit: bool = False) -> None:
        self.iface, self.notes, self.then_exit = iface, notes, then_exit
        super().__init__()


class ProbeAnswer(Message):
    """One factory address answered."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        super().__init__()


class ProbeFinished(Message):
    """A probe round ended."""

    def __init__(self, result: ProbeResult) -> None:
        self.result = result
        super().__init__()


class ListenTick(Message):
    """Listening on the cable: ``seconds_left`` to go (only the newest counts)."""

    def __init__(self, seconds_left: float) -> None:
        self.seconds_left = seconds_left
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ListenTick)


class ListenFinished(Message):
    """The listen after a silent search ended: ``listened`` says what is on
    the cable (None: listening is off), ``advice`` what to do next (the
    procedure's words), ``capture`` the pcap left for Support."""

    def __init__(self, listened: Listened | None, advice: list[str],
                 capture: str | None) -> None:
        self.listened, self.advice, self.capture = listened, advice, capture
        super().__init__()


class HeardProbed(Message):
    """A device heard on the cable was probed at its own address."""

    def __init__(self, address: str, result: ProbeResult) -> None:
        self.address, self.result = address, result
        super().__init__()


class CarrierChanged(Message):
    """The cable in the laptop port went in (``carrier`` True) or out."""

    def __init__(self, iface: str, carrier: bool) -> None:
        self.iface, self.carrier = iface, carrier
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, CarrierChanged)


class LoggedIn(Message):
    """Logged in to the appliance as ``username``; ``password`` is the one in
    force now (memory only); ``changed_password`` when the factory one was
    replaced; ``state`` the appliance as read after login."""

    def __init__(self, changed_password: bool, state: ApplianceState, username: str,
                 password: str) -> None:
        self.changed_password, self.state = changed_password, state
        self.username, self.password = username, password
        super().__init__()


class LoginRefused(Message):
    """The appliance refused the password; ``tries_left`` before lockout, if known."""

    def __init__(self, text: str, tries_left: int | None, locked: bool) -> None:
        self.text, self.tries_left, self.locked = text, tries_left, locked
        super().__init__()


class PlanReady(Message):
    """The appliance was read and diffed against the sheet."""

    def __init__(self, state: ApplianceState, plan: Plan) -> None:
        self.state, self.plan = state, plan
        super().__init__()


class StepUpdated(Message):
    """One step of the run changed status (``step``: a copy)."""

    def __init__(self, step: Step) -> None:
        self.step = step
        super().__init__()


class RunFinished(Message):
    """The run ended (``result`` None when it stopped before the first step);
    ``report`` is (markdown path, json path) or None; ``note`` says why it stopped."""

    def __init__(self, result: RunResult | None, report: tuple[Path, Path] | None,
                 note: str = "") -> None:
        self.result, self.report, self.note = result, report, note
        super().__init__()


class SerialText(Message):
    """Bytes read from the serial line, batched (``text`` already decoded)."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__()


class LabCableMoved(Message):
    """Demo only: the lab's cable now sits in ``nic``."""

    def __init__(self, nic: str) -> None:
        self.nic = nic
        super().__init__()


class PortPutBack(Message):
    """The link journal was read at start: ``notes`` say what was put back (may be empty)."""

    def __init__(self, notes: list[str]) -> None:
        self.notes = notes
        super().__init__()


class HealthRead(Message):
    """The appliance at ``address`` answered check_health."""

    def __init__(self, address: str, health: Health) -> None:
        self.address, self.health = address, health
        super().__init__()


class PromoteDone(Message):
    """set_failover_role was sent to ``address``."""

    def __init__(self, address: str, result: PromoteResult) -> None:
        self.address, self.result = address, result
        super().__init__()


class TickChanged(Message):
    """A tick box was ticked (``value`` True) or unticked (``Tick.Changed``)."""

    def __init__(self, tick: Widget, value: bool) -> None:
        self.tick, self.value = tick, value
        super().__init__()

    @property
    def control(self) -> Widget:
        return self.tick


class ChoiceChanged(Message):
    """Another value was chosen in a ``Choice`` (``Choice.Changed``)."""

    def __init__(self, choice: Widget, value: str) -> None:
        self.choice, self.value = choice, value
        super().__init__()

    @property
    def control(self) -> Widget:
        return self.choice


class VerifyChecked(Message):
    """One service check of verify ended; ``line`` says it in the appliance's words."""

    def __init__(self, line: str) -> None:
        self.line = line
        super().__init__()


class VerifyFinished(Message):
    """Verify ended; ``report`` is the verify report's path."""

    def __init__(self, result: VerifyResult, report: str) -> None:
        self.result, self.report = result, report
        super().__init__()


class KitStage(Message):
    """Taking a kit moved on to ``text`` (finding, exporting, downloading...)."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__()


class KitProgress(Message):
    """``done`` of ``total`` bytes of ``what`` are in the kit (None: not known)."""

    def __init__(self, what: str, done: int, total: int | None) -> None:
        self.what, self.done, self.total = what, done, total
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, KitProgress)


class KitDone(Message):
    """The kit is written (``result``) and was checked as readiness checks it (``report``)."""

    def __init__(self, result: KitResult, report: KitReport) -> None:
        self.result, self.report = result, report
        super().__init__()


class KitChecked(Message):
    """Readiness checked a kit: ``report``."""

    def __init__(self, report: KitReport) -> None:
        self.report = report
        super().__init__()


class FinishStepChanged(Message):
    """A finish step (the Site step's row) changed status (``step``: a copy)."""

    def __init__(self, step: FinishStep) -> None:
        self.step = step
        super().__init__()


class FinishProgressed(Message):
    """How far an upload or a restart wait is (only the newest matters)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FinishProgressed)


class FinishEnded(Message):
    """The finish ended (``result`` as far as it got); ``report`` the run's
    report paths or None; ``note`` why it stopped early ("" when it ran through)."""

    def __init__(self, result: FinishResult | None, report: tuple[Path, Path] | None,
                 note: str = "") -> None:
        self.result, self.report, self.note = result, report, note
        super().__init__()
