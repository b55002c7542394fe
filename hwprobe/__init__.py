"""bringup's core: everything that talks to the laptop, the appliance and the
disk, with no UI code. It imports no face (``tui``), no command line
(``bringup``) and no simulator, not even lazily.

The rooms, from the bottom up. Each room's ``__init__`` says what it may
import (``tests/test_import_hygiene.py`` holds it to that): the loose
modules import no room; ``port`` and ``appliance`` only the loose modules;
``settings`` also ``appliance``; ``procedure`` every room but ``runbook``;
``runbook`` ``settings`` and ``appliance``.

- loose modules: ``errors``, ``constants``, ``safetext``, ``redact``,
  ``fsutil``, ``helptext``, ``stopping`` (shared words, exceptions and the
  exit-status contract, file writing, signals at every moment);
- ``port/``: the laptop port (take over, give back, journal, lock, probe);
- ``appliance/``: how to reach and read an appliance (page map, drivers,
  pinning, survey, the failover API);
- ``settings/``: the settings sheet and its areas, one module each;
- ``procedure/``: one bring-up session walking the procedure, the engine,
  the report and verify;
- ``runbook/``: the other recovery paths (checklists, readiness, RMA).
"""
