"""Where a webhook may be sent: public internet addresses only, checked when it is sent.

A webhook URL is chosen by a merchant, so without a check it aims the platform's worker at
whatever that merchant likes: the cloud's metadata service (169.254.169.254), the database,
the operator's admin pages. Checking only when the endpoint is registered is not enough: the
name can be made to resolve to a public address then and to ``127.0.0.1`` later (DNS
rebinding), or between the check and the connection. So delivery (``services.platform
.webhooks``) resolves the name once, refuses unless *every* address it resolves to is public,
and connects to the address it checked (no second lookup), with the name kept for TLS (SNI
and certificate) and the ``Host`` header.

*Public* is narrower than ``ipaddress``'s ``is_global``: besides everything IANA marks not
globally reachable (loopback, RFC 1918, link-local, carrier-grade NAT 100.64/10, benchmark,
documentation, unspecified, broadcast), multicast and reserved ranges are refused, and an IPv6
address that carries an IPv4 one (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible
``::a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``, Teredo ``2001::/32``) is public
only if what it carries is.

A name that does not resolve is refused (fails closed): at registration it is a clear error,
at delivery a failed attempt retried with the usual backoff.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Resolves a host name to the addresses it has now (strings, as ``getaddrinfo`` gives them).
Lookup = Callable[[str], list[str]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_COMPATIBLE = ipaddress.ip_network("::/96")


class DestinationRefusedError(Exception):
    """The URL's host is not a public internet address (or does not resolve); the message
    says which address and why, to show the endpoint's owner."""


@dataclass(frozen=True)
class Destination:
    """A checked host: the name to send (``Host``, SNI) and the address to connect to."""

    host: str
    address: IPAddress


def system_lookup(host: str) -> list[str]:
    """The operating system's resolver; tests replace it (no test needs the internet)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise DestinationRefusedError(f"{host} does not resolve") from exc
    return [str(info[4][0]) for info in infos]


def _embedded(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    carried: list[ipaddress.IPv4Address] = []
    if address.sixtofour is not None:
        carried.append(address.sixtofour)
    if address.teredo is not None:
        carried.extend(address.teredo)
    if address in _NAT64 or address in _COMPATIBLE:
        carried.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return carried


def why_not_public(address: IPAddress) -> str | None:
    """None for a public address, else a short reason ("loopback", "private", …)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # reaches exactly the IPv4 address it maps
            reason = why_not_public(address.ipv4_mapped)
            return None if reason is None else f"{reason} (inside an IPv6 address)"
        if address in _COMPATIBLE:
            return "an IPv4-compatible IPv6 address (deprecated)"
        for carried in _embedded(address):
            reason = why_not_public(carried)
            if reason is not None:
                return f"{reason} (inside an IPv6 address)"
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_reserved, "reserved"),
        (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT, "carrier-grade NAT"),
        (address.is_private, "private"),
        (not address.is_global, "not globally reachable"),
    )
    for failed, reason in checks:
        if failed:
            return reason
    return None


def check_addresses(host: str, addresses: Iterable[str]) -> list[IPAddress]:
    """Every address parsed and public, in the resolver's order; else the first refusal."""
    parsed = [ipaddress.ip_address(a.split("%", 1)[0]) for a in addresses]
    if not parsed:
        raise DestinationRefusedError(f"{host} does not resolve")
    for address in parsed:
        reason = why_not_public(address)
        if reason is not None:
            raise DestinationRefusedError(f"{host} resolves to {address}, a {reason} address")
    return list(dict.fromkeys(parsed))


def literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def resolve(host: str, lookup: Lookup, *, public_only: bool = True) -> Destination:
    """One lookup of ``host`` (none for an address literal) and the address to connect to.

    ``public_only=False`` (a test environment, or the operator's own endpoint) skips the
    check but still pins the address, so what is checked is always what is reached."""
    found = literal(host)
    answers = [str(found)] if found is not None else lookup(host)
    if public_only:
        return Destination(host, check_addresses(host, answers)[0])
    if not answers:
        raise DestinationRefusedError(f"{host} does not resolve")
    return Destination(host, ipaddress.ip_address(answers[0].split("%", 1)[0]))
