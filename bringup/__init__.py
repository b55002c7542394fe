"""The command line: the composition root.

The one package that wires the core (``hwprobe``), the console (``tui``) and
the simulated appliance (``simulator``) together. ``hwprobe`` imports neither
of the others and ``tui`` does not import ``simulator``; tests/test_import_hygiene.py
proves it in fresh interpreters.
"""
