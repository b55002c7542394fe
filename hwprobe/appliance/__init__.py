"""The appliance: its page map (the contract with the simulator), the typed
shapes of what it holds (``state``), the driver interface and its web and
console drivers (``console/``: transport, channel, dialogue), what only the
web interface does (``webonly``), certificate pinning, the firmware profiles
and survey, and the /login command API (failover). The drivers know pages,
forms and menus, not settings: they read page-map sections (``section``),
save a section's form and add or remove a table's row with the values they
are given.

May import: the loose modules of ``hwprobe`` only. Not ``port`` (a driver is
handed what it needs of the port), ``settings``, ``procedure`` or ``runbook``.
"""
