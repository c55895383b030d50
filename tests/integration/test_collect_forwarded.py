"""The served app behind a reverse proxy: the visitor's address comes from X-Forwarded-For
only when the connection is from a trusted proxy, on the collect path and on every other."""

from __future__ import annotations

import orjson
from fastapi.testclient import TestClient

from tests.integration.test_collect_endpoint import HEADERS, SITE, events, hit
from troth.app import serving_app
from troth.runtime import Runtime

UK_VISITOR = "81.2.69.142"
PROXY = "10.20.30.40"


def served(runtime: Runtime, peer: str) -> TestClient:
    settings = runtime.settings.model_copy(update={"forwarded_allow_ips": "10.0.0.0/8"})
    return TestClient(serving_app(settings, runtime), client=(peer, 50000))


def test_co3_a_hit_through_a_trusted_proxy_is_enriched_from_the_visitor_address(
    runtime: Runtime,
) -> None:
    http = served(runtime, PROXY)
    forwarded = {**HEADERS, "x-forwarded-for": f"{UK_VISITOR}, 10.1.1.1"}
    assert (
        http.post("/api/collect", content=orjson.dumps(hit()), headers=forwarded).status_code == 202
    )
    (stored,) = events(runtime)
    assert (stored.country, stored.ip) == ("GB", "81.2.69.0")


def test_co3_an_untrusted_peer_cannot_choose_its_address(runtime: Runtime) -> None:
    http = served(runtime, "203.0.113.9")
    forwarded = {**HEADERS, "x-forwarded-for": UK_VISITOR}
    assert (
        http.post("/api/collect", content=orjson.dumps(hit()), headers=forwarded).status_code == 202
    )
    (stored,) = events(runtime)
    assert (stored.country, stored.ip) == ("", "203.0.113.0")


def test_co6_the_rest_of_the_app_reads_the_same_proxy_headers(runtime: Runtime) -> None:
    """The consent banner's mode follows the visitor's region (GB asks for opt-in)."""
    config = {"site": SITE}
    proxied = served(runtime, PROXY).get(
        "/api/consent/config", params=config, headers={"x-forwarded-for": UK_VISITOR}
    )
    assert proxied.json()["mode"] == "opt_in"
    direct = served(runtime, "203.0.113.9").get(
        "/api/consent/config", params=config, headers={"x-forwarded-for": UK_VISITOR}
    )
    assert direct.json()["mode"] == "opt_out"
