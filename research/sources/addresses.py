"""Which hosts and addresses the fetcher may connect to (SSRF policy).

Library choice: Python's `ipaddress` parses addresses and knows most special-purpose ranges,
`idna` does the UTS #46 mapping of Unicode hosts (fullwidth digits, ideographic full stops,
case) and IDNA encoding. No maintained library covers the rest, so it is written here:

* `ipaddress.is_global` on Python 3.12 misses multicast (224.0.0.0/4 and ff00::/8 are
  "global"), NAT64 and 6to4 addresses that embed a loopback or private IPv4 address,
  IPv4-compatible and IPv4-translated forms, ISATAP interface identifiers, 64:ff9b:1::/48,
  3fff::/20 and others. We therefore check an explicit table taken from the IANA special-purpose
  registries, then every IPv4 address embedded in an IPv6 transition form, then `is_global` as
  a backstop (an address refused by any of the three is refused).
* Hosts such as `2130706433`, `0x7f.1` or `017700000001` are IPv4 addresses to browsers, curl
  and glibc's `inet_aton`; the WHATWG URL standard's IPv4 parser is implemented below so that
  they are recognised (and refused) before any DNS lookup.
* The SSRF packages on PyPI (advocate, drawbridge, ...) are unmaintained or young, wrap a client
  we do not use, and cover fewer of the notations above.
"""

from __future__ import annotations

import ipaddress
import re
import string
from dataclasses import dataclass
from urllib.parse import unquote

import idna

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _networks(*cidrs: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


# (reason, networks). The reason is shown to people: "refused: loopback address".
_REFUSED_NETWORKS: tuple[
    tuple[str, tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]], ...
] = (
    ("unspecified address", _networks("0.0.0.0/8", "::/128")),
    ("loopback address", _networks("127.0.0.0/8", "::1/128")),
    ("private address", _networks("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")),
    ("unique-local address", _networks("fc00::/7")),
    ("shared address space (CGNAT)", _networks("100.64.0.0/10")),
    ("link-local address", _networks("169.254.0.0/16", "fe80::/10")),
    ("site-local address", _networks("fec0::/10")),
    ("IETF protocol assignment", _networks("192.0.0.0/24", "2001::/23")),
    (
        "documentation address",
        _networks(
            "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20"
        ),
    ),
    ("benchmarking address", _networks("198.18.0.0/15", "2001:2::/48")),
    ("6to4 relay anycast address", _networks("192.88.99.0/24")),
    ("multicast address", _networks("224.0.0.0/4", "ff00::/8")),
    ("reserved address", _networks("240.0.0.0/4", "5f00::/16")),
    ("broadcast address", _networks("255.255.255.255/32")),
    ("discard-only address", _networks("100::/64")),
    ("IPv4-compatible IPv6 address (deprecated)", _networks("::/96")),
    ("IPv4-translated IPv6 address", _networks("::ffff:0:0:0/96")),
    ("local-use NAT64 address", _networks("64:ff9b:1::/48")),
)

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_ISATAP_IDS = (0x00005EFE, 0x02005EFE)  # interface identifier ::0:5efe:a.b.c.d / ::200:5efe:...


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """IPv4 addresses an IPv6 transition form carries, with the form's name."""
    found: list[tuple[str, ipaddress.IPv4Address]] = []
    value = int(address)
    if address.ipv4_mapped is not None:
        found.append(("IPv4-mapped", address.ipv4_mapped))
    if address in _NAT64:
        found.append(("NAT64", ipaddress.IPv4Address(value & 0xFFFFFFFF)))
    if address.sixtofour is not None:
        found.append(("6to4", address.sixtofour))
    if address.teredo is not None:
        server, client = address.teredo
        found.extend([("Teredo server", server), ("Teredo client", client)])
    if (value >> 32) & 0xFFFFFFFF in _ISATAP_IDS:
        found.append(("ISATAP", ipaddress.IPv4Address(value & 0xFFFFFFFF)))
    return found


def refusal_reason(address: IPAddress) -> str | None:
    """Why the fetcher must not connect to `address`, or None when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return "IPv6 address with a zone"
        if address.ipv4_mapped is not None:  # the same host as the IPv4 address it maps
            reason = refusal_reason(address.ipv4_mapped)
            return f"{reason} in IPv4-mapped form" if reason else None
    for reason, networks in _REFUSED_NETWORKS:
        if any(address in network for network in networks):
            return reason
    if isinstance(address, ipaddress.IPv6Address):
        for form, inner in embedded_ipv4(address):
            reason = refusal_reason(inner)
            if reason:
                return f"{reason} in {form} form"
    if not address.is_global:
        return "address that is not globally routable"
    return None


class HostError(ValueError):
    """A URL host that cannot be fetched; the message says why in one line."""


@dataclass(frozen=True)
class Host:
    """A URL host in canonical form: an IP address, or an ASCII (IDNA) domain name."""

    name: str  # "example.com", "xn--bcher-kva.de", "127.0.0.1" or "::1"
    address: IPAddress | None  # set when the host is an IP literal in any notation

    @property
    def url_form(self) -> str:
        return f"[{self.name}]" if isinstance(self.address, ipaddress.IPv6Address) else self.name


# WHATWG "forbidden domain code points", plus whitespace.
_FORBIDDEN_HOST_CHARS = frozenset("\x00\t\n\r #/:<>?@[\\]^|%\x7f") | frozenset(
    chr(c) for c in range(0x20)
)
_ASCII_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_HEX = frozenset(string.hexdigits)


def _ipv4_number(part: str) -> int | None:
    """One part of a WHATWG IPv4 address: decimal, 0x-hex or 0-octal; None when invalid."""
    if part[:2].lower() == "0x":
        digits, base = part[2:], 16
        valid = all(c in _HEX for c in digits)
    elif len(part) > 1 and part.startswith("0"):
        digits, base = part[1:], 8
        valid = all(c in "01234567" for c in digits)
    else:
        digits, base = part, 10
        valid = digits.isascii() and digits.isdigit()
    if not valid:
        return None
    return int(digits, base) if digits else 0


def _ends_in_number(parts: list[str]) -> bool:
    last = parts[-1]
    if last.isascii() and last.isdigit():
        return True
    return last[:2].lower() == "0x" and all(c in _HEX for c in last[2:])


def parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The WHATWG URL IPv4 parser: `2130706433`, `0x7f.1`, `0177.0.0.01` are all 127.0.0.1.

    Returns None when the host is a domain name; raises HostError when it looks like an
    address but is not a valid one (browsers refuse such URLs too).
    """
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not parts or not parts[-1] or not _ends_in_number(parts):
        return None
    numbers = [_ipv4_number(part) if part else None for part in parts]
    if len(parts) > 4 or any(number is None for number in numbers):
        raise HostError(f"{host!r} is not a valid IPv4 address")
    *leading, last = [n for n in numbers if n is not None]
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        raise HostError(f"{host!r} is not a valid IPv4 address (a part is out of range)")
    value = last
    for index, number in enumerate(leading):
        value += number * 256 ** (3 - index)
    return ipaddress.IPv4Address(value)


def parse_host(raw: str) -> Host:
    """Canonicalise a URL host as a browser would: percent-decoding, UTS #46 mapping (fullwidth
    digits and ideographic full stops become ASCII), IPv4 in any notation, bracketed IPv6,
    IDNA names."""
    if raw.startswith("["):
        if not raw.endswith("]"):
            raise HostError("the IPv6 address is missing its closing ']'")
        try:
            address = ipaddress.IPv6Address(raw[1:-1])
        except ValueError:
            raise HostError(f"{raw!r} is not a valid IPv6 address") from None
        return Host(name=str(address), address=address)
    try:
        decoded = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise HostError("the host is percent-encoded bytes that are not UTF-8") from None
    try:
        mapped = idna.uts46_remap(decoded, std3_rules=False, transitional=False)
    except idna.IDNAError as exc:
        raise HostError(f"the host {decoded!r} is not a valid domain name ({exc})") from None
    if not mapped or any(c in _FORBIDDEN_HOST_CHARS for c in mapped):
        raise HostError(f"the host {decoded!r} contains characters not allowed in a host")
    address = parse_ipv4(mapped)
    if address is not None:
        return Host(name=str(address), address=address)
    name = mapped.rstrip(".") if mapped.endswith(".") and mapped != "." else mapped
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=False).decode("ascii")
        except idna.IDNAError as exc:
            raise HostError(f"the host {decoded!r} is not a valid domain name ({exc})") from None
    if len(name) > 253 or not all(_ASCII_LABEL.match(label) for label in name.split(".")):
        raise HostError(f"the host {decoded!r} is not a valid domain name")
    return Host(name=name, address=None)


def is_local_name(name: str) -> bool:
    """Names that always mean this machine (RFC 6761), refused without asking DNS."""
    return name == "localhost" or name.endswith(".localhost")
