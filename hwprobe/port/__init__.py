"""The laptop port: list the laptop's ports, take one over for the appliance
(link journal, port lock, the programs that own it, the laptop address's ARP
check) and give it back exactly; find the appliance on it (the probe).

- ``takeover``: the Takeover (take, give back, exit signals);
- ``recovery``: put a port back from its journal (give-back, restore-link);
- ``linkstate``: the port's addresses and routes through netlink (``rtnl``);
- ``networkmanager``, ``owners``: the programs that may own the port;
- ``address``: which laptop address to claim (with ``arp``'s check);
- ``journal``, ``lock``, ``privileges``: what makes a takeover safe;
- ``interfaces``, ``serialports``: the laptop's ports; ``probe`` (ARP, HTTPS) and
  ``search`` (the one search every face runs): finding the appliance;
- ``listen`` (scapy, loaded only when a search found nothing) and ``heard``
  (what it heard on the cable, in the technician's words): what is there.

May import: the loose modules of ``hwprobe`` only. Nothing here knows the
appliance's pages or the settings sheet.
"""
