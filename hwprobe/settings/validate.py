"""Field checks for settings: one value at a time.

The settings sheet uses them, and so do the console's forms while the technician
types. Every ``check_*`` function returns ``None`` when the value is good, or one
short sentence saying what is wrong (it names the value, so it reads on its own
under a form field and after ``FILE:LINE: [table].key:`` in a sheet's report).
None of them raises, whatever it is given.

The last part serves the settings sheet's messages (``hwprobe.settings.sheet``):
``Locator`` finds the line of a key (tomllib reports none), ``type_problem``
words a wrong TOML type, ``syntax_problem`` words a TOML syntax error.
"""
from __future__ import annotations

import difflib
import ipaddress
import json
import re
import tomllib
from collections.abc import Iterable

from hwprobe.constants import NICS

# Matched whole (fullmatch) and ASCII only: ``$`` lets a trailing newline through,
# and ``\d`` and ``isdigit()`` accept Arabic-Indic or superscript digits that no
# appliance (or ``int()``) reads the same way.
_DOTTED = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3}){3}", re.ASCII)
_LABEL = re.compile(r"[A-Za-z0-9-]+", re.ASCII)
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*", re.ASCII)
_EXAMPLE_IP = "198.51.100.20"


def quote(value) -> str:
    """Return ``value`` quoted for a message: strings in double quotes with
    control characters escaped, anything else as TOML would write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def ascii_digits(text: str) -> bool:
    """True when ``text`` is one or more of the ASCII digits 0-9 (``isdigit()``
    also accepts superscripts, which ``int()`` then refuses)."""
    return isinstance(text, str) and text.isascii() and text.isdigit()


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --- addresses ---------------------------------------------------------------

def check_ipv4(value) -> str | None:
    """Check a dotted-quad IPv4 address such as ``198.51.100.20``.

    Returns None, or a message: not text, empty, not four numbers, a number
    above 255, or a leading zero (ambiguous: some systems read it as octal).
    """
    if not isinstance(value, str):
        return f"expected an IPv4 address such as {_EXAMPLE_IP}, got {quote(value)}"
    if value == "":
        return f"is empty; expected an IPv4 address such as {_EXAMPLE_IP}"
    if not _DOTTED.fullmatch(value):
        return (f"{quote(value)} is not an IPv4 address (four numbers 0-255 "
                f"separated by dots, such as {_EXAMPLE_IP})")
    for part in value.split("."):
        if int(part) > 255:
            return f"{quote(value)} is not an IPv4 address: {part} is above 255"
        if len(part) > 1 and part.startswith("0"):
            return f"{quote(value)} is not an IPv4 address: write {part} without leading zeros"
    return None


def prefix_to_netmask(prefix: int) -> str:
    """Return the dotted netmask for a prefix length 0-32 (24 -> 255.255.255.0)."""
    return str(ipaddress.IPv4Network(f"0.0.0.0/{prefix}").netmask)


def netmask_to_prefix(netmask: str) -> int | None:
    """Return the prefix length of a contiguous dotted netmask, else None."""
    if check_ipv4(netmask) is not None:
        return None
    bits = int(ipaddress.IPv4Address(netmask))
    inverted = (~bits) & 0xFFFFFFFF
    if inverted & (inverted + 1):          # ones must all be on the left
        return None
    return 32 - inverted.bit_length()


def _prefix_of(value) -> int | None:
    """Prefix length for a netmask given as dotted text, ``24``, ``"24"`` or ``"/24"``."""
    if _is_int(value):
        return value if 0 <= value <= 32 else None
    if isinstance(value, str):
        text = value[1:] if value.startswith("/") else value
        if ascii_digits(text) and len(text) <= 2:
            n = int(text)
            return n if n <= 32 else None
        return netmask_to_prefix(value)
    return None


def check_netmask(value) -> str | None:
    """Check a netmask: dotted (``255.255.255.0``) or a prefix length 0-32
    (``24``, ``"24"`` or ``"/24"``).

    Returns None, or a message: not an address, not contiguous (such as
    255.0.255.0), or a prefix outside 0-32.
    """
    if _is_int(value):
        return None if 0 <= value <= 32 else f"prefix {value} is outside 0-32"
    if not isinstance(value, str):
        return f"expected a netmask such as 255.255.255.0 or a prefix such as 24, got {quote(value)}"
    if value == "":
        return "is empty; expected a netmask such as 255.255.255.0 or a prefix such as 24"
    text = value[1:] if value.startswith("/") else value
    if ascii_digits(text) and len(text) <= 2:
        return None if int(text) <= 32 else f"prefix {text} is outside 0-32"
    if check_ipv4(value) is not None:
        return (f"{quote(value)} is not a netmask (write it as 255.255.255.0 "
                f"or as a prefix 0-32)")
    if netmask_to_prefix(value) is None:
        return (f"{quote(value)} is not a contiguous netmask (its one-bits must all "
                f"be on the left, as in 255.255.255.0)")
    return None


def to_netmask(value) -> str | None:
    """Return the dotted netmask for anything ``check_netmask`` accepts, else None."""
    prefix = _prefix_of(value)
    return None if prefix is None else prefix_to_netmask(prefix)


def check_host_address(address: str, netmask) -> str | None:
    """Check that ``address`` may be given to a NIC with ``netmask``.

    Assumes both passed their own checks. Returns None, or a message when the
    address is 0.0.0.0, loopback, multicast, broadcast, or the network or
    broadcast address of its own subnet.
    """
    ip = ipaddress.IPv4Address(address)
    if ip.is_unspecified or ip.is_loopback or ip.is_multicast or int(ip) == 0xFFFFFFFF:
        return f"{address} cannot be given to a NIC (0.0.0.0, loopback, multicast or broadcast)"
    prefix = _prefix_of(netmask)
    if prefix is None or prefix >= 31:
        return None
    net = ipaddress.IPv4Network(f"{address}/{prefix}", strict=False)
    if ip == net.network_address:
        return f"{address} is the network address of {net}, not a host address"
    if ip == net.broadcast_address:
        return f"{address} is the broadcast address of {net}, not a host address"
    return None


def check_cidr_network(value) -> str | None:
    """Check a route destination: a network in CIDR form with no host bits set
    (``203.0.113.128/25``). The default route (``/0``) is refused: it belongs in
    the default gateway. Returns None or a message."""
    if not isinstance(value, str) or "/" not in value:
        shown = quote(value)
        return f"{shown} is not a network in CIDR form, such as 203.0.113.0/24"
    address, _, prefix = value.partition("/")
    problem = check_ipv4(address)
    if problem:
        return f"{quote(value)}: {problem}"
    if not (ascii_digits(prefix) and len(prefix) <= 2 and int(prefix) <= 32):
        return f"{quote(value)}: prefix {quote(prefix)} is not a number 0-32"
    net = ipaddress.IPv4Network(f"{address}/{int(prefix)}", strict=False)
    if int(prefix) == 0:
        return f"{quote(value)} is the default route: set it as [network].default_gateway"
    if str(net.network_address) != address:
        return f"{quote(value)} has host bits set; did you mean {net}?"
    return None


def _subnets(subnets: Iterable[tuple[str, object]]):
    for address, netmask in subnets:
        prefix = _prefix_of(netmask)
        if check_ipv4(address) is None and prefix is not None:
            yield address, ipaddress.IPv4Network(f"{address}/{prefix}", strict=False)


def gateway_in_subnets(gateway: str, subnets: Iterable[tuple[str, object]]) -> str | None:
    """Check that ``gateway`` lies inside one of the configured subnets.

    ``subnets`` are ``(address, netmask)`` pairs as the NICs will hold them; the
    netmask may be dotted or a prefix. Pairs that are themselves invalid are
    skipped. Returns None, or a message naming the subnets there are, or saying
    the gateway is one of the appliance's own addresses.
    """
    problem = check_ipv4(gateway)
    if problem:
        return problem
    nets = list(_subnets(subnets))
    if not nets:
        return f"{gateway} cannot be reached: no address is configured yet"
    gw = ipaddress.IPv4Address(gateway)
    for address, net in nets:
        if gw == ipaddress.IPv4Address(address):
            return f"{gateway} is the appliance's own address, not a gateway"
    for _, net in nets:
        if gw in net:
            if net.prefixlen < 31 and gw in (net.network_address, net.broadcast_address):
                return f"{gateway} is the network or broadcast address of {net}"
            return None
    listed = ", ".join(str(net) for _, net in nets)
    return f"{gateway} is in no configured subnet ({listed})"


def default_gateway_problem(gateway: str, addresses) -> str | None:
    """The one rule for the default gateway against the appliance's addresses
    as given (a sheet's ``[[ip]]`` tables, or the console's Network step).

    ``addresses`` holds an (address, netmask) pair for each address, or None
    for one that is itself bad. Returns None when the gateway is reachable, or
    when some address is bad (its fix comes first, and may move the subnet);
    otherwise what ``gateway_in_subnets`` says is wrong."""
    addresses = list(addresses)
    if any(pair is None for pair in addresses):
        return None
    return gateway_in_subnets(gateway, addresses)


# --- names -----------------------------------------------------------------------

def check_hostname(value) -> str | None:
    """Check a host name by RFC 1123: labels of letters, digits and '-', 1-63
    characters, not starting or ending with '-', 253 characters in all; the last
    label is not all digits (that would be a mistyped address).

    Returns None or a message naming the label at fault.
    """
    if not isinstance(value, str):
        return f"expected a host name such as support.example.net, got {quote(value)}"
    if value == "":
        return "is empty; expected a host name such as support.example.net"
    if len(value) > 253:
        return f"{quote(value)} is longer than 253 characters"
    labels = value.split(".")
    for label in labels:
        if label == "":
            return f"{quote(value)} is not a host name: it has an empty label (a dot at an end or two in a row)"
        if not _LABEL.fullmatch(label):
            return (f"{quote(value)} is not a host name: {quote(label)} may hold "
                    f"only letters, digits and '-'")
        if len(label) > 63:
            return f"{quote(value)} is not a host name: label {quote(label[:12] + '...')} is longer than 63 characters"
        if label.startswith("-") or label.endswith("-"):
            return f"{quote(value)} is not a host name: {quote(label)} starts or ends with '-'"
    if ascii_digits(labels[-1]):
        if check_ipv4(value) is None:
            return f"{quote(value)} is an IPv4 address; a host name is expected here"
        return f"{quote(value)} is neither an IPv4 address nor a host name"
    return None


def check_server(value) -> str | None:
    """Check a server given as an IPv4 address or a host name (NTP, SMTP relay,
    syslog). Numbers and dots are checked as an address, anything else as a name."""
    if isinstance(value, str) and re.fullmatch(r"[0-9.]+", value):
        return check_ipv4(value)
    return check_hostname(value)


def check_email(value) -> str | None:
    """Check an e-mail address (``noc@example.net``): one '@', a local part of
    letters, digits, dots and the usual symbols (64 characters at most), and a
    domain that is a host name with at least one dot. Returns None or a message."""
    if not isinstance(value, str):
        return f"expected an e-mail address such as noc@example.net, got {quote(value)}"
    if value == "":
        return "is empty; expected an e-mail address such as noc@example.net"
    if value.count("@") != 1:
        return f"{quote(value)} is not an e-mail address: it needs exactly one '@'"
    local, domain = value.split("@")
    if not local or len(local) > 64 or not _LOCAL_PART.fullmatch(local):
        return f"{quote(value)} is not an e-mail address: the part before '@' is not valid"
    if domain == "":
        return f"{quote(value)} is not an e-mail address: nothing after '@'"
    if check_hostname(domain) is not None or "." not in domain:
        return f"{quote(value)} is not an e-mail address: {quote(domain)} is not a domain"
    return None


# --- numbers and choices ---------------------------------------------------------

def check_port(value) -> str | None:
    """Check a TCP port: a whole number 1-65535. Returns None or a message."""
    if not _is_int(value):
        return f"expected a port number 1-65535, got {quote(value)}"
    if not 1 <= value <= 65535:
        return f"port {value} is outside 1-65535"
    return None


def check_vlan(value) -> str | None:
    """Check a VLAN ID: a whole number 1-4094. Returns None or a message."""
    if not _is_int(value):
        return f"expected a VLAN ID 1-4094, got {quote(value)}"
    if not 1 <= value <= 4094:
        return f"VLAN {value} is outside 1-4094"
    return None


def check_nic(value) -> str | None:
    """Check a NIC name: ``nic1`` or ``nic2``. Returns None or a message."""
    if value in NICS:
        return None
    return f"{quote(value)} is not a NIC of the appliance; use " + " or ".join(quote(n) for n in NICS)


def check_choice(value, choices: Iterable[str]) -> str | None:
    """Check that ``value`` is one of ``choices``. Returns None or a message."""
    choices = list(choices)
    if value in choices:
        return None
    return f"{quote(value)} is not allowed; use one of " + ", ".join(quote(c) for c in choices)


# --- for the settings sheet's messages: where a value is, and what type it has ---

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _read_key(text: str, i: int) -> tuple[list[str], int]:
    """Parse a (dotted, maybe quoted) key at ``text[i:]``; return its parts and the end."""
    parts = []
    while True:
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] in "\"'":
            quote_char, j, part = text[i], i + 1, ""
            while j < len(text) and text[j] != quote_char:
                if quote_char == '"' and text[j] == "\\":
                    j += 1
                part += text[j] if j < len(text) else ""
                j += 1
            parts.append(part)
            i = j + 1
        else:
            m = _BARE.match(text, i)
            if not m:
                return parts, i
            parts.append(m.group())
            i = m.end()
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == ".":
            i += 1
            continue
        return parts, i


class Locator:
    """Maps a place in a sheet (``("ip", 1, "netmask")``; array entries counted
    from 0) to the line it is on, from the text alone. A place it cannot find
    falls back to its table's line, then to line 1."""

    def __init__(self, text: str):
        self.lines: dict[tuple, int] = {}
        arrays: dict[tuple, int] = {}
        table: tuple = ()
        depth, in_string = 0, None           # a value spilling onto the next lines
        for number, line in enumerate(text.splitlines(), 1):
            i = 0
            if depth == 0 and in_string is None:
                stripped = line.lstrip()
                i = len(line) - len(stripped)
                if not stripped or stripped[0] == "#":
                    continue
                if stripped[0] == "[":
                    is_array = stripped.startswith("[[")
                    parts, _ = _read_key(line, i + (2 if is_array else 1))
                    table = self._resolve(parts, is_array, arrays, self.lines, number)
                    self.lines.setdefault(table, number)
                    continue
                parts, i = _read_key(line, i)
                path = table
                for part in parts:
                    path = path + (part,)
                    self.lines.setdefault(path, number)
                i += 1                         # past "="
            depth, in_string = self._scan_value(line, i, depth, in_string)

    @staticmethod
    def _resolve(parts: list[str], is_array: bool, arrays: dict, lines: dict, number: int) -> tuple:
        path: tuple = ()
        for n, part in enumerate(parts):
            path += (part,)
            if path in arrays and not (is_array and n == len(parts) - 1):
                path += (arrays[path] - 1,)
        if is_array:
            lines.setdefault(path, number)
            arrays[path] = arrays.get(path, 0) + 1
            path += (arrays[path] - 1,)
        return path

    @staticmethod
    def _scan_value(line: str, i: int, depth: int, in_string):
        while i < len(line):
            if in_string:
                if in_string == '"""' and line[i] == "\\":
                    i += 2
                    continue
                if line.startswith(in_string, i):
                    i, in_string = i + 3, None
                    continue
                i += 1
                continue
            ch = line[i]
            if ch == "#":
                break
            if line.startswith('"""', i) or line.startswith("'''", i):
                in_string, i = line[i:i + 3], i + 3
                continue
            if ch in "\"'":
                j = i + 1
                while j < len(line) and line[j] != ch:
                    j += 2 if ch == '"' and line[j] == "\\" else 1
                i = j + 1
                continue
            depth += 1 if ch in "[{" else -1 if ch in "]}" else 0
            i += 1
        return depth, in_string

    def line(self, path: tuple) -> int:
        """Return the line of ``path``, or of the nearest enclosing table; else 1."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1


def kind_of(value) -> str:
    """Name the TOML type of a parsed value in words: "a string", "a list", ..."""
    if isinstance(value, bool):
        return "true/false"
    return {str: "a string", int: "a whole number", float: "a decimal number",
            list: "a list", dict: "a table"}.get(type(value), "a date or time")


def did_you_mean(word: str, choices, wrap=lambda c: f'"{c}"') -> str:
    """Return 'did you mean "X"?' for the closest of ``choices``, or list them all."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if close:
        return f"did you mean {wrap(close[0])}?"
    return "expected one of " + ", ".join(wrap(c) for c in choices)


def type_problem(key: str, kind: str, value) -> str | None:
    """Check that a parsed value has ``kind`` ("str", "int" or "list" of strings).

    Returns None, or a message with a hint for the usual slips (a quoted number,
    a single string where a list belongs)."""
    if kind == "str":
        if isinstance(value, str):
            return None
        if key == "netmask" and isinstance(value, int) and not isinstance(value, bool):
            return f"expected a string such as \"255.255.255.0\", got a whole number; or write prefix = {value}"
        return f"expected a string, got {kind_of(value)}"
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return None
        hint = f"; write {key} = {value} without quotes" if ascii_digits(value) else ""
        return f"expected a whole number, got {kind_of(value)}{hint}"
    if isinstance(value, list):
        for n, item in enumerate(value, 1):
            if not isinstance(item, str):
                return f"item {n} is {kind_of(item)}; expected a list of strings"
        return None
    hint = f"; write {key} = [{quote(value)}]" if isinstance(value, str) else ""
    return f"expected a list of strings, got {kind_of(value)}{hint}"


def syntax_problem(name: str, text: str, error: tomllib.TOMLDecodeError) -> str:
    """Turn tomllib's error into ``NAME:LINE: syntax: what (column N)``."""
    message = str(error)
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if found:
        line, where = int(found.group(1)), f" (column {found.group(2)})"
        message = message[: found.start()]
    else:
        line, where = max(1, text.count("\n") + (0 if text.endswith("\n") else 1)), " at the end of the sheet"
        message = re.sub(r"\s*\(at end of document\)$", "", message)
    friendly = {
        "Cannot overwrite a value": "a key is set twice",
        "Invalid value": "a value is missing or not valid TOML; strings need double quotes",
    }
    twice = re.match(r"Cannot declare \((.*)\) twice", message)
    if twice:
        table = ".".join(re.findall(r"'([^']*)'", twice.group(1)))
        message = f"[{table}] appears twice"
    else:
        message = friendly.get(message, message[:1].lower() + message[1:])
    return f"{name}:{line}: syntax: {message}{where}"

