"""The settings: the sheet (parse, check, write), the settings areas with
their words, limits and page-map sections, and capture from a healthy
appliance.

May import: the loose modules of ``hwprobe`` and ``appliance`` (the page map
and the driver interface). Not ``port``, ``procedure`` or ``runbook``.
"""
