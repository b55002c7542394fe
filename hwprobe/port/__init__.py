"""The laptop port: list the laptop's ports, take one over for the appliance
(link journal, port lock, the programs that own it, the laptop address's ARP
check) and give it back exactly; find the appliance on it (the probe).

May import: the loose modules of ``hwprobe`` only. Nothing here knows the
appliance's pages or the settings sheet.
"""
