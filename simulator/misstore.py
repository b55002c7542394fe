"""A fault for read-back drills: the appliance stores a value other than the
one it was sent, and says "saved" all the same (as a firmware that
normalises, truncates or mixes up a field would).

Switched at run time through the control socket, ``fault=store_other,
value="FIELD[,FIELD...]"`` (``value=""`` stops it); each FIELD is one of
``FIELDS``: the simulator's names for what each form saves. ``alter(fields,
pages, action, form)`` gives the form the web face then saves: the same form
with those values changed to other valid ones (so nothing is refused), or
the form as it was when the action holds none of them.
"""
from __future__ import annotations

from typing import Callable

# field -> (page-map section, the section's action key, the form field's key, the other value)
_OTHER: dict[str, tuple[str, str, str, Callable[[str], str]]] = {
    "ip": ("ip_config", "add_action", "netmask",
           lambda v: "255.255.0.0" if v.strip() != "255.255.0.0" else "255.255.255.0"),
    "hostname": ("global_config", "action", "hostname", lambda v: "other-" + v.strip()),
    "gateway": ("global_config", "action", "default_gateway",
                lambda v: _last_octet(v, 2)),
    "dns": ("global_config", "action", "dns_servers", lambda v: "198.51.100.99"),
    "routes": ("routes", "add_action", "gateway", lambda v: _last_octet(v, 253)),
    "ntp": ("ntp", "action", "servers", lambda v: "198.51.100.124"),
    "syslog": ("syslog", "action", "servers", lambda v: "198.51.100.6"),
    "smtp": ("smtp", "action", "relay", lambda v: "other-relay.example.net"),
}
FIELDS = tuple(_OTHER)


def _last_octet(address: str, octet: int) -> str:
    head, _, last = address.strip().rpartition(".")
    return f"{head}.{octet if last != str(octet) else octet + 1}" if head else address


def check(value: str) -> frozenset[str]:
    """The fields named in ``value`` ("dns,ntp"); ValueError naming the
    ones the fault knows when one is not."""
    fields = frozenset(f.strip() for f in value.split(",") if f.strip())
    unknown = sorted(fields - set(_OTHER))
    if unknown:
        raise ValueError(f"store_other: unknown field {unknown[0]!r}; known: {', '.join(FIELDS)}")
    return fields


def alter(fields, pages, action: str, form: dict) -> dict:
    """The form to save for ``action`` while the fault is on for ``fields``:
    each of their values this action holds changed, else ``form`` as it is."""
    changed = dict(form)
    for field in fields or ():
        section, action_key, key, other = _OTHER[field]
        spec = pages[section]
        name = spec.get(key)
        if spec.get(action_key) == action and name and form.get(name, "").strip():
            changed[name] = other(form[name])
    return changed
