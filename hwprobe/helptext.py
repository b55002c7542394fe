"""The words a technician reads in `bringup --help`, on the quick card, and in
the man page: one text, so the three never disagree. Plain data."""

CARD = [
    ("The cable", "One Ethernet cable from a laptop port into the appliance's NIC1 "
                  "(NIC2 also works). `sudo bringup ports` shows which port is which."),
    ("The command", "sudo bringup                  the guided console\n"
                    "sudo bringup probe --iface PORT\n"
                    "sudo bringup apply --sheet FILE --address A --iface PORT\n"
                    "sudo bringup apply --kit DIR --iface PORT   and finish the site"),
    ("The keys", "Enter next   Esc back   Tab next field   ^p all actions\n"
                 "^x quit (asks if unfinished)   ^t serial pane   ^l redraw   ^g log in"),
    ("Nothing answers", "Move the cable to the other NIC and press ^r (search again).\n"
                        "bringup listens on the cable and says what is there: an appliance on\n"
                        "an earlier site's address (Enter probes it; headless: --address A/24),\n"
                        "a switch, DHCP, or silence (still booting). No carrier: check the cable.\n"
                        "Use the serial console: ^o at Find, or ^t."),
    ("Get the laptop back", "Quitting gives the port back as it was. After a crash:\n"
                            "sudo bringup restore-link"),
    ("Before anything fails", "bringup kit --address A --out DIR   the recovery kit\n"
                              "bringup readiness --kit DIR         is it fit?"),
    ("Exit status", "0 done, 1 failed, 2 bad input (nothing changed), 3 needs root, "
                    "130 interrupted"),
]


def card_text(width: int = 78) -> str:
    """The quick card as plain text (the --help epilog and the card's source)."""
    import textwrap

    out = []
    for title, body in CARD:
        out.append(f"{title}:")
        for line in body.splitlines():
            out += textwrap.wrap(line, width, initial_indent="  ", subsequent_indent="    ")
    return "\n".join(out)
