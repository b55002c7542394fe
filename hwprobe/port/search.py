"""The search for the appliance on one laptop port: the one every face uses.

``Search(iface, addresses, timeout, on_answer, cancel, src, check_https)``
asks ``addresses`` by ARP on ``iface`` (``hwprobe.port.probe.probe``) from
``src`` and, with ``check_https``, checks HTTPS on whoever answers. Its
``frames`` keep every ARP frame the search sent and heard (epoch seconds,
bytes): the start of the capture Support gets when it finds nothing.

- ``result()`` runs it in the calling thread when it was not started, and
  returns the ProbeResult (the console's Find, ``bringup apply``);
- ``start()`` runs it in a thread of its own, started now, so it can overlap
  the takeover (``bringup probe``: from 0.0.0.0 as soon as the port is up,
  while the laptop's address is still being checked); ``check_https_from(src)``
  then checks HTTPS from the laptop's address once it is claimed, and
  ``result()`` waits for both.

Small on purpose (threading and ``hwprobe.port.arp`` only; ``hwprobe.port.probe`` is imported by the
search itself): ``bringup probe`` builds and starts one before the rest of
bringup has loaded. A thread started from another one shares its network
namespace.

Raises (from ``result()``): what the probe raises (BadInput, NeedsPrivileges,
LinkError, OSError).
"""
from __future__ import annotations

import threading

from hwprobe.port.arp import ANY


class Search:
    """One search of ``addresses`` on ``iface``; see the module docstring."""

    def __init__(self, iface: str, addresses: tuple[str, ...], timeout: float,
                 on_answer=None, cancel: threading.Event | None = None, *,
                 src: str = ANY, check_https: bool = False):
        self.iface, self.addresses, self.timeout = iface, addresses, timeout
        self.on_answer, self.cancel = on_answer, cancel
        self.src, self.check_https = src, check_https
        self._thread: threading.Thread | None = None
        self._https: threading.Thread | None = None
        self._result = None
        self._error: BaseException | None = None
        self.frames: list[tuple[float, bytes]] = []

    def start(self) -> None:
        """Run the search in a thread of its own, from now (harmless to repeat)."""
        if self._thread is not None:        # started early already
            return
        self._thread = threading.Thread(target=self._run, name="arp-search", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from hwprobe.port import probe

        try:
            self._result = probe.probe(self.iface, self.src, self.addresses,
                                       timeout=self.timeout, on_answer=self.on_answer,
                                       check_https=self.check_https, cancel=self.cancel,
                                       record=self.frames)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            self._error = exc

    def check_https_from(self, src: str) -> None:
        """Once the search ends, the HTTPS check of whoever answered, from
        ``src`` (the laptop's address, just claimed), in a thread of its own
        (started from the takeover's thread, so in its network namespace):
        it overlaps the takeover's last journal save."""
        from hwprobe.port import probe

        def run() -> None:
            self._thread.join()
            if self._error is None:
                try:
                    probe.check_https(self._result, self.iface, src, on_answer=self.on_answer)
                except BaseException as exc:  # noqa: BLE001 - raised again in result()
                    self._error = exc

        self._https = threading.Thread(target=run, name="https-check", daemon=True)
        self._https.start()

    def result(self):
        """The search's ProbeResult (with the HTTPS check, when one was
        asked for); raises what the search or the check raised."""
        if self._thread is None:            # not started (or the takeover never got the port up)
            self._run()
        else:
            self._thread.join()
        if self._https is not None:
            self._https.join()
        if self._error is not None:
            raise self._error
        return self._result
