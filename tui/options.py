"""The console's command-line options (imports no Textual).

``bringup`` itself and ``make_app(argv)`` accept the same options.
"""
from __future__ import annotations


def add_console_arguments(parser) -> None:
    """The console's options (on ``bringup`` itself, and in ``make_app(argv)``)."""
    import argparse

    g = parser.add_argument_group("the console (bringup with no command)")
    g.add_argument("--sheet", metavar="FILE", help="settings sheet to start with")
    g.add_argument("--kit", metavar="DIR",
                   help="a recovery kit to start with: its sheet, then the Site step "
                        "(certificate, site software, /login backup)")
    g.add_argument("--iface", metavar="PORT", help="laptop port to preselect (e.g. eth1)")
    g.add_argument("--console-profile", action=argparse.BooleanOptionalAction, default=None,
                   help="ASCII, 16 colours, no mouse, no animation (default: automatic "
                        "on TERM=linux/vt100/vt220 or a serial line)")
    g.add_argument("--force", action="store_true", default=False,
                   help="allow taking over a port that holds the default route")
    g.add_argument("--lab", metavar="NAME", help=argparse.SUPPRESS)
    from hwprobe.procedure.argcheck import listen_seconds

    g.add_argument("--listen", type=listen_seconds, default=None, metavar="SECONDS",
                   help="when nothing answers at Find, listen this long and say what is on "
                        "the cable (default 5; 0: do not listen)")
