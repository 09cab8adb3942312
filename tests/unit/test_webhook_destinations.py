"""Which addresses a webhook may reach: public ones only, in every disguise."""

from __future__ import annotations

import ipaddress

import pytest

from tindahan.webhooks.destinations import (
    DestinationRefusedError,
    check_addresses,
    resolve,
    why_not_public,
)

REFUSED = [
    "127.0.0.1",  # loopback
    "127.255.255.254",
    "10.1.2.3",  # RFC 1918
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # link-local: the cloud metadata service
    "100.64.0.1",  # carrier-grade NAT
    "100.127.255.254",
    "0.0.0.0",  # unspecified
    "255.255.255.255",  # broadcast
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "192.0.2.10",  # documentation
    "198.18.0.1",  # benchmarking
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",  # IPv4-compatible
    "::8.8.8.8",  # deprecated form even of a public address
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "2001:db8::1",  # documentation
]

PUBLIC = ["8.8.8.8", "93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("text", REFUSED)
def test_non_public_addresses_are_refused(text: str) -> None:
    assert why_not_public(ipaddress.ip_address(text)) is not None
    with pytest.raises(DestinationRefusedError, match="resolves to"):
        check_addresses("hooks.example", [text])


@pytest.mark.parametrize("text", PUBLIC)
def test_public_addresses_pass(text: str) -> None:
    assert why_not_public(ipaddress.ip_address(text)) is None


def test_one_private_answer_among_public_ones_refuses_the_name() -> None:
    with pytest.raises(DestinationRefusedError, match=r"10\.0\.0\.1, a private"):
        check_addresses("hooks.example", ["8.8.8.8", "10.0.0.1"])


def test_carrier_grade_nat_is_named() -> None:
    with pytest.raises(DestinationRefusedError, match="carrier-grade NAT"):
        resolve("100.64.0.1", lambda _host: pytest.fail("a literal is not looked up"))


def test_a_name_that_resolves_to_nothing_fails_closed() -> None:
    with pytest.raises(DestinationRefusedError, match="does not resolve"):
        resolve("hooks.example", lambda _host: [])
    with pytest.raises(DestinationRefusedError, match="does not resolve"):
        resolve("hooks.example", lambda _host: [], public_only=False)


def test_resolve_pins_the_first_checked_address_from_one_lookup() -> None:
    calls: list[str] = []

    def lookup(host: str) -> list[str]:
        calls.append(host)
        return ["93.184.216.34", "2606:2800:220:1::1"]

    where = resolve("hooks.example", lookup)
    assert (where.host, str(where.address)) == ("hooks.example", "93.184.216.34")
    assert calls == ["hooks.example"]
