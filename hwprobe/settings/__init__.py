"""The settings: the settings areas, one module each (``areas/``: each one's
sheet table, steps, words, limits and page-map section; ``area`` says what a
module declares), the sheet that loops over them (``sheet`` reads and checks,
``sheetwrite`` writes, ``records`` holds the tables that are no area), the
wording the faces share, and capture from a healthy appliance.

May import: the loose modules of ``hwprobe`` and ``appliance`` (the page map
and the driver interface). Not ``port``, ``procedure`` or ``runbook``.
"""
