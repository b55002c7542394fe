"""The appliance: its page map (the contract with the simulator), the typed
shapes of what it holds (``state``), the driver interface and its web and
console drivers (``console/``: transport, channel, dialogue), what only the
web interface does (``webonly``), certificate pinning, the firmware profiles
and survey, and the /login command API (failover).

May import: the loose modules of ``hwprobe`` only. Not ``port`` (a driver is
handed what it needs of the port), ``settings``, ``procedure`` or ``runbook``.
"""
