"""``bringup lab up|plug|unplug|down|status`` and ``bringup sim``."""
from __future__ import annotations

import argparse
import contextlib
import json
import os

from pathlib import Path
from hwprobe.errors import BadInput, BringupError, NeedsPrivileges


def _lab():
    from simulator import lab   # imported when a lab command runs: `bringup` itself starts faster

    return lab


@contextlib.contextmanager
def simulator_errors():
    """The lab's errors become bringup's, with the same words and exit status
    (the simulator is bringup's peer and imports nothing of it, so the
    composition root translates). Also a decorator."""
    from simulator.netns import LabBadInput, LabError, LabNeedsRoot

    try:
        yield
    except LabBadInput as exc:
        raise BadInput(str(exc)) from exc
    except LabNeedsRoot as exc:
        raise NeedsPrivileges(str(exc)) from exc
    except LabError as exc:
        raise BringupError(str(exc)) from exc


LAB_HELP = """\
The lab is a simulated B Series appliance cabled to a simulated laptop, in
network namespaces NAME-laptop (port lan0), NAME-appliance (nic1, nic2) and
NAME-patch. Run bringup inside the laptop namespace to practise:

  sudo bringup lab up --name lab1 --appliance-address 169.254.1.3 --answers-on nic2
  sudo ip netns exec lab1-laptop bringup probe --iface lan0
  sudo bringup lab plug nic2 --name lab1      # move the cable to NIC2
  sudo bringup lab down --name lab1
"""


def register(sub, root) -> None:
    lab = sub.add_parser(
        "lab", help="a simulated appliance in network namespaces (needs root)",
        description=LAB_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lsub = lab.add_subparsers(dest="lab_command", metavar="ACTION", required=True)

    p = lsub.add_parser("up", help="create a lab and start its simulated appliance")
    p.add_argument("--name", default="lab", help="lab name; namespaces are NAME-laptop, NAME-appliance (default: lab)")
    p.add_argument("--appliance-address", default="169.254.1.1", metavar="A",
                   help="the factory address the appliance answers on (default: 169.254.1.1); "
                        "ADDRESS/PREFIX (203.0.113.40/24): an appliance that is not "
                        "factory-fresh, holding an earlier site's address, gateway, DNS, NTP "
                        "and /appliance password (BRINGUP_PASSWORD when set, else made and "
                        "kept in the lab's directory, root only), and sending DNS and NTP "
                        "queries on its own")
    p.add_argument("--appliance-gateway", metavar="G",
                   help="with --appliance-address ADDRESS/PREFIX: the earlier site's gateway "
                        "(default: the network's first address)")
    p.add_argument("--dhcp-client", action="store_true",
                   help="the appliance is set to DHCP: no address, a real dhclient in its "
                        "namespace sends discovers that nothing answers")
    p.add_argument("--switch", action="store_true",
                   help="the laptop's cable goes into a switch port instead of the appliance: "
                        "a real lldpd announces the switch and port (lab plug nic1 moves it)")
    p.add_argument("--booting", type=float, default=0.0, metavar="SECONDS",
                   help="the appliance is still booting for SECONDS: silent, no address")
    p.add_argument("--answers-on", default="nic1", choices=("nic1", "nic2", "both"),
                   help="which NIC(s) carry the factory address (default: nic1)")
    p.add_argument("--plug", default="nic1", choices=("nic1", "nic2"),
                   help="which NIC the laptop's cable is in (default: nic1)")
    p.add_argument("--pair", action="store_true",
                   help="add a backup appliance: a failover pair in production on 198.51.100.20 "
                        "(primary) and .21 (backup), shared IP .30, as --site says")
    p.add_argument("--site", action="store_true",
                   help="one appliance in production on 198.51.100.20 (NIC1) as support.example.net: "
                        "the example sheet's settings, a CA-signed certificate, site software, "
                        "/login users and API accounts, and the site's update file in the lab's "
                        "directory; lan0 on 198.51.100.250/24. The API account is "
                        "BRINGUP_API_CLIENT_ID/BRINGUP_API_SECRET and the /appliance password "
                        "BRINGUP_PASSWORD when set, else made and kept in the lab's directory "
                        "(root only)")
    p.add_argument("--firmware", metavar="NAME",
                   help="the simulated appliance's firmware profile: legacy (default) or current")
    p.add_argument("--install-seconds", type=float, metavar="S",
                   help="how long installing the site software keeps the appliance silent "
                        "while it restarts (default 20; a real one takes 15 to 60 minutes)")
    p.add_argument("--update-server", action="store_true",
                   help="the appliance reaches the vendor's update server: Updates can "
                        "install the site software without an update file")
    p.add_argument("--laptop", action="append", default=[], metavar="PEER",
                   choices=("networkmanager", "dhclient", "dhcpcd", "networkd", "avahi-autoipd",
                            "dhcp-server", "ser2net"),
                   help="also run a real laptop-side program (repeatable): networkmanager "
                        "(owning lan0 with a DHCP profile, on a private bus), dhclient, dhcpcd, "
                        "networkd (systemd-networkd), avahi-autoipd (link-local), "
                        "dhcp-server (dnsmasq on NIC1's side, for leases), ser2net (the console "
                        "over RFC 2217 and raw TCP on 127.0.0.1)")
    p.add_argument("--production", nargs="?", const="nic1,nic2", metavar="NICS",
                   help="add the production network with real DNS, NTP, syslog and SMTP "
                        "servers at the example sheet's addresses, and cable NICS to it "
                        "(default nic1,nic2); the relay's password is BRINGUP_SMTP_PASSWORD "
                        "or a random one kept in the lab's directory (root only)")
    p.add_argument("--json", action="store_true", help="print the lab as JSON")
    p.add_argument("sim_args", nargs=argparse.REMAINDER,
                   help="after --, extra flags for the simulator (e.g. -- --fault delay=0.5)")
    p.set_defaults(handler=_up)

    p = lsub.add_parser("plug", help="move the laptop's cable to NIC1 or NIC2 (or the switch)")
    p.add_argument("nic", choices=("nic1", "nic2", "switch"))
    p.add_argument("--name", default="lab")
    p.set_defaults(handler=_plug)

    p = lsub.add_parser("production", help="cable an appliance NIC to the production network, or pull it")
    p.add_argument("nic", choices=("nic1", "nic2"))
    p.add_argument("--off", action="store_true", help="pull the NIC's production cable")
    p.add_argument("--name", default="lab")
    p.set_defaults(handler=_production)

    p = lsub.add_parser("unplug", help="pull the cable out (the laptop sees carrier drop)")
    p.add_argument("--name", default="lab")
    p.set_defaults(handler=_unplug)

    p = lsub.add_parser("down", help="remove a lab (safe to repeat; cleans a lab whose processes died)")
    p.add_argument("--name", default="lab")
    p.add_argument("--all", action="store_true", help="remove every lab on this machine")
    p.set_defaults(handler=_down)

    p = lsub.add_parser("status", help="show the labs that are up")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_status)

    sim = sub.add_parser(
        "sim", help="run the simulated appliance (normally started by `bringup lab up`)",
        add_help=False,
    )
    sim.add_argument("sim_argv", nargs=argparse.REMAINDER)
    sim.set_defaults(handler=_sim, passes_through=True)


def describe(lab) -> str:
    labmod = _lab()
    where = (f"in production on {labmod.PAIR['primary']}" if lab.site else
             f"{_holds(lab)} on "
             f"{lab.answers_on.upper() if lab.answers_on != 'both' else 'NIC1 and NIC2'}")
    return "\n".join([
        f"lab {lab.name} is up",
        f"  laptop namespace     {lab.laptop_ns}  (port {lab.laptop_iface}, cable in {lab.plug.upper()})",
        f"  appliance namespace  {lab.appliance_ns}  ({where})",
        f"  appliance console    {lab.console or '-'}",
        f"  fault control        {lab.control or '-'}",
    ] + ([] if lab.site else [
        f"  try:  ip netns exec {lab.laptop_ns} bringup probe --iface {lab.laptop_iface}",
    ]) + ([
        f"  failover pair        primary {labmod.PAIR['primary']} ({lab.appliance_ns}), backup "
        f"{lab.backup['address']} ({lab.backup['ns']}), shared IP {labmod.PAIR['shared']}",
    ] if lab.backup else []) + ([
        f"  laptop on the pair:  ip -n {lab.laptop_ns} addr add {labmod.PAIR['laptop']}/24 dev lan0",
    ] if lab.backup and not lab.site else []) + _describe_site(lab) + (
        _secret_lines(lab, "earlier site's password", "appliance_password", None,
                      "BRINGUP_PASSWORD")
        if getattr(lab, "appliance_prefix", None) else []) + (
        _secret_lines(lab, "API client         ", "api_client_secret",
                      ("BRINGUP_API_CLIENT_ID", "api_client_id"), "BRINGUP_API_SECRET")
        if lab.backup or lab.site else []) + ([
        f"  production network   {lab.production['ns']}: gateway 198.51.100.1, DNS 198.51.100.53 "
        f"and 203.0.113.53, NTP 198.51.100.123, syslog 198.51.100.5, mail.example.net "
        f"(198.51.100.25); cabled: {', '.join(n.upper() for n in lab.production['patched']) or '-'}",
        f"  relay login          {lab.production['smtp_user']}, password in "
        f"{lab.production['smtp_password_file']}",
        f"  laptop on production:  ip -n {lab.laptop_ns} addr add 198.51.100.250/24 dev lan0",
    ] if lab.production else []) + _describe_peers(lab))


def given_appliance_password() -> str | None:
    """BRINGUP_PASSWORD, for a lab appliance that holds a site's /appliance
    password (a pair, a site, an earlier site's box), or None when it is not
    set (the lab makes one). Raises BadInput when the appliance's own rule
    would refuse it."""
    password = os.environ.get("BRINGUP_PASSWORD") or None
    if password is not None:
        from hwprobe.appliance.password_rule import problems

        broken = problems(password, "admin")
        if broken:
            raise BadInput("BRINGUP_PASSWORD: the lab's appliance refuses it as its "
                           f"/appliance password ({'; '.join(broken)})")
    return password


def _secret_lines(lab, label: str, key: str, ident: tuple[str, str] | None,
                  variable: str) -> list[str]:
    """Where a lab's secret ``key`` comes from, and how a technician hands it
    to bringup: given to `lab up` (in ``variable``), or made by the lab, whose
    root-only file is read into ``variable`` by the shell, never shown or
    typed (with ``ident``: (variable, credentials key) of the id beside it)."""
    from simulator.labfile import secret_file

    path = secret_file(lab.dir, key)
    if path is None:
        given = f"{ident[0]} / {variable}" if ident else variable
        return [f"  {label}  as given to lab up ({given})"]
    export = ""
    if ident:
        try:
            value = json.loads((Path(lab.dir) / "credentials.json").read_text())[ident[1]]
            export = f"{ident[0]}={value} "
        except (OSError, ValueError, KeyError):
            pass
    return [f"  {label}  made by the lab, in {path} (root only); for bringup:",
            f"    export {export}{variable}=\"$(sudo cat {path})\""]


def _describe_site(lab) -> list[str]:
    site = lab.site
    if not site:
        return []
    names = site["hostname"] + (f" and {site['backup_hostname']}" if site.get("backup_hostname")
                                else "")
    return [
        f"  in production        {site['hostname']}: certificate for {names} signed by the "
        f"site's CA ({site['ca']}), site software, /login users and API accounts",
        f"  laptop               lan0 on {site['laptop']}/24 (no --iface needed)",
        *_secret_lines(lab, "/appliance password", "appliance_password", None,
                       "BRINGUP_PASSWORD"),
        *_secret_lines(lab, f"no backup permission API account {site['monitor_client_id']}:",
                       "monitor_client_secret", ("BRINGUP_API_CLIENT_ID", "monitor_client_id"),
                       "BRINGUP_API_SECRET"),
        f"  site update file     {site['update_file']}",
        f"  try:  ip netns exec {lab.laptop_ns} bringup kit --address {_lab().PAIR['primary']} "
        "--out KIT-DIR",
    ]


def _holds(lab) -> str:
    """What the lab's appliance answers on, in words."""
    if getattr(lab, "dhcp", False):
        return "set to DHCP: no address, its dhclient asks"
    prefix = getattr(lab, "appliance_prefix", None)
    booting = (f", silent for the first {lab.booting:g} s"
               if getattr(lab, "booting", 0) else "")
    if prefix:
        return (f"not factory-fresh: an earlier site's {lab.appliance_address}/{prefix}, "
                f"gateway {lab.appliance_gateway or 'its network first address'}{booting}")
    return f"factory address {lab.appliance_address}{booting}"


def _describe_peers(lab) -> list[str]:
    out = []
    for name, peer in (lab.peers or {}).items():
        if name == "dbus":
            continue
        extra = ""
        if name == "networkmanager":
            extra = (f"  nmcli: DBUS_SYSTEM_BUS_ADDRESS={peer['env']['DBUS_SYSTEM_BUS_ADDRESS']}"
                     f" ip netns exec {lab.laptop_ns} nmcli device")
        elif name == "ser2net":
            extra = f"  {peer['rfc2217']}  {peer['raw']}"
        elif name == "dnsmasq":
            extra = f"  leases {peer['first']}-{peer['last']} on NIC1's side"
        elif name == "lldpd":
            extra = (f"  the cable is in switch {peer['name']}, port {peer['port']} "
                     f"(`bringup lab plug nic1` moves it to the appliance)")
        elif name == "appliance-dhclient":
            extra = f"  in the appliance on {peer['nic'].upper()}, host name {peer['hostname']}"
        out.append(f"  laptop peer          {name} (pid {peer['pid']}){extra}")
    return out


@simulator_errors()
def _up(args) -> int:
    labmod = _lab()
    extra = [a for a in args.sim_args if a != "--"]
    if args.firmware:
        from hwprobe.appliance.pagemap import profiles

        if args.firmware not in profiles():
            raise BadInput(f"--firmware {args.firmware}: choose one of {', '.join(profiles())}")
        extra += ["--firmware", args.firmware]
    if args.install_seconds is not None:
        if args.install_seconds < 0:
            raise BadInput(f"--install-seconds {args.install_seconds:g}: 0 or more seconds")
        extra += ["--install-seconds", f"{args.install_seconds:g}"]
    if args.update_server:
        extra.append("--update-server")
    client = None
    if (args.pair or args.site) and os.environ.get("BRINGUP_API_CLIENT_ID") \
            and os.environ.get("BRINGUP_API_SECRET"):
        client = (os.environ["BRINGUP_API_CLIENT_ID"], os.environ["BRINGUP_API_SECRET"])
    used = "/" in args.appliance_address          # an earlier site's appliance: its password
    password = given_appliance_password() if (args.pair or args.site or used) else None
    lab = labmod.up(name=args.name, appliance_address=args.appliance_address,
                    answers_on=args.answers_on, plug=args.plug, sim_args=extra,
                    pair=args.pair, site=args.site, api_client=client,
                    appliance_password=password,
                    production=_production_nics(args.production),
                    smtp_password=os.environ.get("BRINGUP_SMTP_PASSWORD") or None,
                    gateway=args.appliance_gateway, dhcp_client=args.dhcp_client,
                    switch=args.switch, booting=args.booting)
    if args.laptop:
        from simulator import laptop

        try:
            # the server first, so a client started after it gets its lease at once
            for peer in sorted(set(args.laptop), key=lambda p: p != "dhcp-server"):
                getattr(laptop, "start_" + peer.replace("-", "_"))(lab)
        except BaseException:
            labmod.down(lab.name)
            raise
        lab = labmod.get(lab.name)
    if args.json:
        print(json.dumps(lab.to_json(), indent=2))
    else:
        from bringup import runlog

        # -q: the result alone (`bringup lab status` shows the rest)
        print(f"lab {lab.name} is up" if runlog.quiet() else describe(lab))
    return 0


def _production_nics(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    nics = tuple(n.strip().lower() for n in text.split(",") if n.strip())
    bad = [n for n in nics if n not in ("nic1", "nic2")]
    if bad:
        from hwprobe.errors import BadInput

        raise BadInput(f"--production {text}: {', '.join(bad)} is not a NIC (nic1, nic2)")
    return nics


@simulator_errors()
def _plug(args) -> int:
    labmod = _lab()
    lab = labmod.plug(args.name, args.nic)
    print(f"lab {lab.name}: cable moved to {lab.plug.upper()}")
    return 0


@simulator_errors()
def _production(args) -> int:
    from simulator import production

    lab = production.patch(args.name, args.nic, not args.off)
    state = "pulled from" if args.off else "cabled to"
    print(f"lab {lab.name}: {args.nic.upper()} {state} the production network "
          f"(cabled: {', '.join(n.upper() for n in lab.production['patched']) or '-'})")
    return 0


@simulator_errors()
def _unplug(args) -> int:
    labmod = _lab()
    lab = labmod.unplug(args.name)
    print(f"lab {lab.name}: cable pulled out")
    return 0


@simulator_errors()
def _down(args) -> int:
    labmod = _lab()
    targets = labmod.names() if args.all else [args.name]
    for name in targets:
        removed = labmod.down(name)
        print(f"lab {name}: {'removed' if removed else 'was not up'}")
    return 0


@simulator_errors()
def _status(args) -> int:
    labmod = _lab()
    labs = []
    for name in labmod.names():
        try:
            labs.append(labmod.get(name))
        except labmod.LabError:
            print(f"lab {name}: namespaces left without a run directory (bringup lab down --name {name})")
    if args.json:
        print(json.dumps([l.to_json() for l in labs], indent=2))
    else:
        for lab in labs:
            print(describe(lab))
        if not labs:
            print("no lab is up")
    return 0


def _sim(args) -> int:
    from simulator import server

    return int(server.main(args.sim_argv) or 0)
