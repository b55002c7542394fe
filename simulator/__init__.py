"""The simulated B Series appliance and its lab: bringup's peer in every
integration test, the demo and the drills.

It imports nothing of bringup but the page map (``hwprobe.appliance.pagemap``
and its pagemap.toml: the contract). Its password rule, factory credentials
and lockout are its own (``factory``), so that a mistake in bringup is refused
here as an appliance would refuse it (tests/test_sim_independent.py).

The appliance, from the bottom up: ``factory`` (what it is when new),
``rules`` (each form's checks), ``accounts`` (passwords, lockout, web
sessions), ``appliance`` (the state and its changes), ``certstore`` (its
certificates and the TLS listener's choice by SNI); its faces ``pages``,
``certpages`` and ``web`` (HTTPS, with ``multipart`` for uploads),
``console`` (the serial console), ``login_api`` (failover, OAuth) and
``backup_api`` (the /login backup, an NSB of ``nsb``'s making);
``live``, ``netif`` and ``netclients`` (using the settings for real);
``used`` (an appliance that is not factory-fresh: an earlier site's
settings, or DHCP, and what it sends on its own);
``control`` and ``hostile`` (faults); ``server`` runs one (``python -m
simulator serve``); ``jsonfile`` writes its files whole.

The lab: ``netns`` (namespaces, processes, the lab's errors), ``labfile``
(lab.json), ``lab`` (up, plug, down), with ``production`` and ``services``
and ``smtp_relay`` (the site's network), ``site`` with ``siteca`` and
``siteupdate`` (appliances in production: ``--site``, ``--pair``),
``laptop`` (real laptop-side programs) and ``cable`` (what else the
laptop's cable can meet: a switch with real lldpd, the appliance's own
dhclient).

No module imports one that imports it, lazily or not (tests/test_import_cycles.py).
"""
