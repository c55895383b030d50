"""POST /api/collect and GET /p.gif: scope, validation, durability before 202, what is stored."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from troth.app import create_app
from troth.collect.ingest import Ingester
from troth.collect.journal import seal_all
from troth.collect.models import StoredEvent
from troth.runtime import Runtime

SITE = "lumeninsights.example"
ORIGIN = f"https://{SITE}"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
HEADERS = {"user-agent": CHROME, "accept-language": "de-DE,de;q=0.9,en;q=0.5"}


@pytest.fixture
def http(runtime: Runtime) -> TestClient:
    return TestClient(create_app(runtime.settings, runtime), client=("81.2.69.142", 50000))


def hit(**fields: object) -> dict[str, object]:
    return {"site": SITE, "kind": "pageview", "url": f"{ORIGIN}/pricing", **fields}


def events(runtime: Runtime) -> list[StoredEvent]:
    seal_all()
    Ingester.for_runtime(runtime).run_once()
    with runtime.transaction() as session:
        return list(session.scalars(select(StoredEvent).order_by(StoredEvent.id)))


def test_co3_a_page_view_is_stored_enriched(http: TestClient, runtime: Runtime) -> None:
    body = hit(
        url=f"{ORIGIN}/pricing?utm_source=news&utm_campaign=fall&session=abc#top",
        referrer="https://www.google.com/search?q=privacy",
        consent=True,
        vid="0123456789abcdef0123456789abcdef",
    )
    response = http.post("/api/collect", content=orjson.dumps(body), headers=HEADERS)
    assert response.status_code == 202
    (stored,) = events(runtime)
    assert (stored.site, stored.kind, stored.path) == (SITE, "pageview", "/pricing")
    assert (stored.utm_source, stored.utm_campaign) == ("news", "fall")
    assert (stored.referrer_host, stored.referrer_path) == ("google.com", "/search")
    assert (stored.browser, stored.os, stored.device) == ("Chrome", "Linux", "desktop")
    assert stored.language == "de"
    assert stored.country == "GB"
    assert stored.ip == "81.2.69.0"  # the example declares truncation
    assert stored.visitor_key == "0123456789abcdef0123456789abcdef"
    assert not stored.cookieless
    assert stored.ts.year >= 2026


def test_co4_custom_events_and_batches_as_text_plain(http: TestClient, runtime: Runtime) -> None:
    batch = {
        "events": [
            hit(),
            hit(kind="event", name="feature_used", props={"feature": "export", "rows": 20}),
        ]
    }
    response = http.post(
        "/api/collect",
        content=orjson.dumps(batch),
        headers={**HEADERS, "content-type": "text/plain"},
    )
    assert response.status_code == 202
    kinds = [(e.kind, e.name, e.props) for e in events(runtime)]
    assert kinds == [
        ("pageview", "", {}),
        ("event", "feature_used", {"feature": "export", "rows": 20}),
    ]


def test_co6_without_consent_the_visitor_is_cookieless(http: TestClient, runtime: Runtime) -> None:
    vid = "0123456789abcdef0123456789abcdef"
    http.post("/api/collect", content=orjson.dumps(hit(vid=vid)), headers=HEADERS)
    http.post(
        "/api/collect",
        content=orjson.dumps(hit(vid=vid, consent=True)),
        headers={**HEADERS, "sec-gpc": "1"},
    )
    stored = events(runtime)
    assert all(e.cookieless for e in stored)
    assert all(e.visitor_key != vid for e in stored)
    assert stored[0].visitor_key == stored[1].visitor_key  # same day, same browser


def test_scrubbing_keeps_personal_values_out_of_storage(
    http: TestClient, runtime: Runtime
) -> None:
    body = hit(
        url=f"{ORIGIN}/account/jane.doe@example.com?token=s3cr3tT0ken&plan=pro",
        title="Order 4111 1111 1111 1111 for jane.doe@example.com",
        kind="event",
        name="checkout",
        props={"note": "call me at +44 20 7946 0958", "card": "4111-1111-1111-1111"},
    )
    assert http.post("/api/collect", content=orjson.dumps(body), headers=HEADERS).status_code == 202
    (stored,) = events(runtime)
    generated = {"id", "visit_id", "visitor_key"}  # random or hashed: any digits may appear
    text = orjson.dumps(
        {c.name: getattr(stored, c.name) for c in StoredEvent.__table__.columns
         if c.name not in generated},
        default=str,
    ).decode()  # fmt: skip
    for secret in ("jane.doe", "4111", "s3cr3tT0ken", "7946"):
        assert secret not in text, secret


def test_sc1_undeclared_sites_and_origins_are_refused(http: TestClient, runtime: Runtime) -> None:
    other = hit(site="elsewhere.example", url="https://elsewhere.example/")
    refused = http.post("/api/collect", content=orjson.dumps(other), headers=HEADERS)
    assert refused.status_code == 403
    assert "not a site the privacy policy covers" in refused.json()["detail"]
    wrong_host = hit(url="https://evil.example/lumeninsights.example")
    assert http.post("/api/collect", content=orjson.dumps(wrong_host)).status_code == 403
    cross = http.post(
        "/api/collect",
        content=orjson.dumps(hit()),
        headers={**HEADERS, "origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    assert "access-control-allow-origin" not in cross.headers
    assert events(runtime) == []


def test_sc1_a_page_url_with_an_unreadable_host_is_refused(
    http: TestClient, runtime: Runtime
) -> None:
    body = hit(url=f"https://[{SITE}/pricing")  # an unclosed IPv6 bracket
    refused = http.post("/api/collect", content=orjson.dumps(body), headers=HEADERS)
    assert refused.status_code == 403
    assert "the page's host is not" in refused.json()["detail"]
    assert events(runtime) == []


def test_sc1_cors_for_declared_sites_and_subdomains(http: TestClient) -> None:
    for origin in (ORIGIN, f"https://app.{SITE}"):
        preflight = http.options(
            "/api/collect",
            headers={"origin": origin, "access-control-request-method": "POST"},
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == origin
        sent = http.post(
            "/api/collect", content=orjson.dumps(hit()), headers={**HEADERS, "origin": origin}
        )
        assert sent.status_code == 202
        assert sent.headers["access-control-allow-origin"] == origin
        # Nothing else: no body, so no content type; no cookie, ever.
        assert set(sent.headers) == {"access-control-allow-origin", "vary", "content-length"}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"not json", 400, "not valid JSON"),
        (b"[]", 400, "no events"),
        (orjson.dumps({"site": SITE}), 400, "'url' is required"),
        (orjson.dumps(hit(kind="purchase")), 400, "'kind' must be one of"),
        (orjson.dumps(hit(kind="event")), 400, "'name' is required"),
        (orjson.dumps(hit(props={"a": {"nested": 1}})), 400, "'props.a'"),
        (orjson.dumps(hit(url="javascript:alert(1)")), 400, "http(s) address"),
        (b"{" + b" " * 70_000 + b"}", 413, "larger than"),
    ],
)
def test_malformed_events_get_a_clear_4xx(
    http: TestClient, runtime: Runtime, body: bytes, status: int, message: str
) -> None:
    response = http.post("/api/collect", content=body, headers=HEADERS)
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert events(runtime) == []


def test_bots_are_acknowledged_but_not_stored(http: TestClient, runtime: Runtime) -> None:
    bot = {"user-agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}
    assert http.post("/api/collect", content=orjson.dumps(hit()), headers=bot).status_code == 202
    assert events(runtime) == []


def test_co5_the_noscript_pixel_counts_a_page_view(http: TestClient, runtime: Runtime) -> None:
    response = http.get(
        "/p.gif", params={"site": SITE, "url": f"{ORIGIN}/docs", "r": ""}, headers=HEADERS
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/gif"
    assert response.headers["cache-control"] == "no-store"
    assert response.content.startswith(b"GIF89a")
    (stored,) = events(runtime)
    assert (stored.kind, stored.path, stored.cookieless) == ("pageview", "/docs", True)
    assert http.get("/p.gif", params={"site": SITE}).status_code == 400
