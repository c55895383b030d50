from __future__ import annotations

import base64
import ipaddress
import os

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given
from hypothesis import strategies as st

from troth.collect.ip import decrypt_ip, handle_ip, truncate_ip
from troth.policy.schema import IpHandling

KEY = os.urandom(32)


def test_co3_ip_drop_keeps_nothing() -> None:
    assert handle_ip("203.0.113.77", IpHandling.drop) == ""
    assert handle_ip("2001:db8:1234:5678::1", IpHandling.drop, KEY) == ""


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("10.0.0.255", "10.0.0.0"),
        ("2001:db8:1234:5678:9abc::1", "2001:db8:1234::"),
        ("::ffff:198.51.100.23", "198.51.100.0"),
        (" 192.0.2.9 ", "192.0.2.0"),
        ("not-an-ip", ""),
        ("", ""),
        ("203.0.113.777", ""),
        ("010.0.0.1", ""),  # leading zeros: octal to some parsers, refused by all of ours
    ],
)
def test_co3_ip_truncate_keeps_the_network_only(ip: str, expected: str) -> None:
    assert truncate_ip(ip) == expected
    assert handle_ip(ip, IpHandling.truncate) == expected


def test_co3_ip_encrypt_is_opaque_and_reversible_with_the_key() -> None:
    sealed = handle_ip("203.0.113.77", IpHandling.encrypt, KEY)
    assert "203.0.113" not in sealed
    assert base64.b64decode(sealed)  # stored as base64 text
    assert decrypt_ip(sealed, KEY) == "203.0.113.77"
    assert handle_ip("203.0.113.77", IpHandling.encrypt, KEY) != sealed  # fresh nonce each time


def test_co3_ip_encrypted_under_another_key_cannot_be_read() -> None:
    sealed = handle_ip("2001:db8::1", IpHandling.encrypt, KEY)
    with pytest.raises(InvalidTag):
        decrypt_ip(sealed, os.urandom(32))


def test_ip_encrypt_without_a_key_is_refused() -> None:
    with pytest.raises(ValueError, match="no key"):
        handle_ip("203.0.113.77", IpHandling.encrypt)


def test_ip_encrypt_of_garbage_stores_nothing() -> None:
    assert handle_ip("garbage", IpHandling.encrypt, KEY) == ""


@pytest.mark.parametrize(
    "ip", ["1.2.3", "1.2.3.4.5", "01.2.3.4x", "2001:db8::1::2", "::ffff:1.2.3.256"]
)
def test_malformed_addresses_give_nothing(ip: str) -> None:
    assert truncate_ip(ip) == ""


@given(st.ip_addresses(v=4))
def test_co3_every_ipv4_address_keeps_its_own_slash_24(address: ipaddress.IPv4Address) -> None:
    network = ipaddress.ip_network(f"{address}/24", strict=False)
    assert truncate_ip(str(address)) == str(network.network_address)
