"""X-Forwarded-For on the collect path reads as uvicorn's proxy-headers layer reads it."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from troth.collect.forwarded import TrustedProxies

ADDRESSES = [
    "127.0.0.1", "10.0.0.7", "10.1.2.3", "192.168.1.20", "81.2.69.142", "203.0.113.9",
    "::1", "0:0:0:0:0:0:0:1", "2001:db8::5", "2001:DB8:0::5", "::ffff:10.0.0.7",
    "fe80::1%eth0", "unix-socket", "testclient", "", "127.000.0.1", "10.0.0.7:8080",
    "[2001:db8::5]:443", "[::1]", "[::1]x", "[2001:db8::5", "81.2.69.142:port",
]  # fmt: skip
SPECS = [
    "*", "127.0.0.1", "10.0.0.0/8", "127.0.0.1, 10.0.0.0/8", "::1", "2001:db8::/32",
    "testclient", "unix-socket, 192.168.1.0/24", "", "not an address/99", "10.0.0.7, ::1",
]  # fmt: skip


def uvicorn_client(spec: str, peer: str, forwarded: list[str]) -> str:
    """The address uvicorn's middleware puts in the scope."""
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.update(scope)

    headers = [(b"x-forwarded-for", value.encode("latin-1")) for value in forwarded]
    scope = {"type": "http", "client": (peer, 1234), "headers": headers}
    call = ProxyHeadersMiddleware(app, spec)(scope, None, None)  # type: ignore[arg-type]
    with contextlib.suppress(StopIteration):  # nothing in it waits: one step runs it all
        call.send(None)
    host: str = seen["client"][0]
    return host


@pytest.mark.parametrize("spec", SPECS)
def test_every_peer_and_single_entry_reads_as_uvicorn_reads_it(spec: str) -> None:
    proxies = TrustedProxies(spec)
    for peer in ADDRESSES:
        for entry in ["", *ADDRESSES]:
            forwarded = [entry] if entry else []
            assert proxies.client(peer, entry) == uvicorn_client(spec, peer, forwarded), (
                peer,
                entry,
            )


@settings(max_examples=400, deadline=None)
@given(  # chains of proxies, and a header repeated
    spec=st.sampled_from(SPECS),
    peer=st.sampled_from(ADDRESSES),
    forwarded=st.lists(st.lists(st.sampled_from(ADDRESSES), max_size=4).map(", ".join), max_size=2),
)
def test_chains_read_as_uvicorn_reads_them(spec: str, peer: str, forwarded: list[str]) -> None:
    ours = TrustedProxies(spec).client(peer, ", ".join(forwarded))
    assert ours == uvicorn_client(spec, peer, forwarded)


def test_a_trusted_proxy_hands_on_the_right_most_untrusted_address() -> None:
    proxies = TrustedProxies("127.0.0.1, 10.0.0.0/8")
    chain = "81.2.69.142, 203.0.113.9, 10.4.4.4"
    assert proxies.client("127.0.0.1", chain) == "203.0.113.9"
    assert proxies.client("10.9.9.9", "81.2.69.142:5000") == "81.2.69.142"
    assert proxies.client("10.9.9.9", "10.1.1.1, 10.2.2.2") == "10.1.1.1"  # all trusted


def test_an_untrusted_peer_cannot_claim_another_address() -> None:
    proxies = TrustedProxies("127.0.0.1")
    assert proxies.client("203.0.113.9", "81.2.69.142") == "203.0.113.9"
    assert proxies.client("127.0.0.1", "") == "127.0.0.1"
    assert TrustedProxies("").client("127.0.0.1", "81.2.69.142") == "127.0.0.1"


def test_ipv6_spellings_and_networks_are_parsed() -> None:
    assert TrustedProxies("::1").client("0:0:0:0:0:0:0:1", "81.2.69.142") == "81.2.69.142"
    proxies = TrustedProxies("2001:db8::1, 192.168.0.0/16")
    assert proxies.trusts("2001:DB8:0:0::1")
    assert proxies.trusts("192.168.3.4")
    assert not proxies.trusts("192.169.0.1")
    assert not proxies.trusts("2001:db8::2")
    assert proxies.remembered == {"2001:DB8:0:0::1", "192.168.3.4"}  # no untrusted address
