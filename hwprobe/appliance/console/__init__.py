"""The console driver: the appliance's local console over a serial line, in
three layers, as scrapli lays its drivers out:

- ``transport``: the byte pipe (a device path, ``rfc2217://`` or ``socket://``
  URL through pyserial): open, line settings, permission advice, read and
  write, reopen after the line went away;
- ``channel``: text over the transport: prompts and echo, waiting for a
  prompt with a deadline, masking passwords, the timestamped transcript
  (``transcript``) and the batches a console pane is fed;
- ``dialogue``: ``ConsoleDriver``, the driver interface over the channel:
  login, the forced password change, the numbered menu, "show" parsing and
  the setters.

The console pane (tui/widgets/serial_pane.py) reuses the transport and the
channel for a session typed by hand. Each layer imports only the ones below
it; nothing here imports this package's ``__init__``.
"""
from hwprobe.appliance.console.dialogue import ConsoleDriver
from hwprobe.appliance.console.transport import (
    line_settings, open_port, permission_advice, serial_url,
)

__all__ = ["ConsoleDriver", "line_settings", "open_port", "permission_advice", "serial_url"]
