"""Messages the console's workers post to its screens.

Workers never touch a widget: they do the slow, blocking work (netlink, scapy,
HTTPS to the appliance, the serial line) in a thread and post one of these.
Messages where only the newest copy matters set ``can_replace``.
"""
from __future__ import annotations

from typing import Any

from textual.message import Message


class PortsListed(Message):
    """The laptop's ports were read (``ports``: list of hwprobe Port)."""

    def __init__(self, ports: list) -> None:
        self.ports = ports
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PortsListed)


class PortTaken(Message):
    """The laptop port was taken over and holds ``address``."""

    def __init__(self, iface: str, address: str, notes: list[str]) -> None:
        self.iface, self.address, self.notes = iface, address, notes
        super().__init__()


class PortGivenBack(Message):
    """The laptop port is back as it was (``notes`` say what was put back)."""

    def __init__(self, iface: str, notes: list[str]) -> None:
        self.iface, self.notes = iface, notes
        super().__init__()


class ProbeAnswer(Message):
    """One factory address answered (``responder``: hwprobe Responder)."""

    def __init__(self, responder: Any) -> None:
        self.responder = responder
        super().__init__()


class ProbeFinished(Message):
    """A probe round ended (``result``: hwprobe ProbeResult)."""

    def __init__(self, result: Any) -> None:
        self.result = result
        super().__init__()


class CarrierChanged(Message):
    """The cable in the laptop port went in (``carrier`` True) or out."""

    def __init__(self, iface: str, carrier: bool) -> None:
        self.iface, self.carrier = iface, carrier
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, CarrierChanged)


class LoggedIn(Message):
    """Logged in to the appliance; ``changed_password`` when the factory one was replaced."""

    def __init__(self, changed_password: bool, state: Any) -> None:
        self.changed_password, self.state = changed_password, state
        super().__init__()


class LoginRefused(Message):
    """The appliance refused the password; ``tries_left`` before lockout, if known."""

    def __init__(self, text: str, tries_left: int | None, locked: bool) -> None:
        self.text, self.tries_left, self.locked = text, tries_left, locked
        super().__init__()


class PlanReady(Message):
    """The appliance was read and diffed against the sheet."""

    def __init__(self, state: Any, plan: Any) -> None:
        self.state, self.plan = state, plan
        super().__init__()


class StepUpdated(Message):
    """One step of the run changed status (``step``: hwprobe engine Step, a copy)."""

    def __init__(self, step: Any) -> None:
        self.step = step
        super().__init__()


class RunFinished(Message):
    """The run ended; ``report`` is (markdown path, json path) or None."""

    def __init__(self, result: Any, report: tuple | None, note: str = "") -> None:
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
