"""The consent API the banner calls, the ledger behind it, and its console page."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.unit.security.support import (
    START,
    FakeClock,
    add_user,
    app_with_clock,
    session_for,
)
from troth.consent import routes, service
from troth.consent.banner import banner_version
from troth.consent.models import ConsentRecord
from troth.policy import service as policy_service
from troth.policy.loader import load_policy
from troth.runtime import Runtime

ORIGIN = "https://lumeninsights.example"
KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def web(runtime: Runtime) -> TestClient:
    runtime.load_policy()
    return TestClient(app_with_clock(runtime, FakeClock()))


def choice(**changes: object) -> dict[str, object]:
    return {
        "site": "lumeninsights.example",
        "visitor_key": KEY,
        "choice": {"analytics": True, "marketing": False},
        "method": "banner_choose",
        "banner_version": "0123456789abcdef",
        **changes,
    }


def post(web: TestClient, body: object, origin: str | None = ORIGIN) -> httpx.Response:
    headers = {"Origin": origin} if origin else {}
    return web.post("/api/consent", content=json.dumps(body), headers=headers)


def records(runtime: Runtime) -> list[ConsentRecord]:
    with runtime.transaction() as session:
        return list(session.scalars(select(ConsentRecord).order_by(ConsentRecord.id)))


def publish(runtime: Runtime) -> None:
    with runtime.transaction() as session:
        loaded = load_policy(runtime.settings.policy_file)
        policy_service.publish(session, loaded, "test", dt.datetime.now(dt.UTC))
    runtime.policy_changed()


def test_co6_a_choice_from_a_declared_site_is_recorded(runtime: Runtime, web: TestClient) -> None:
    publish(runtime)
    version = banner_version(runtime.declaration)
    response = web.post(
        "/api/consent",
        content=json.dumps(choice(banner_version=version)),
        headers={"Origin": ORIGIN, "Content-Type": "text/plain"},
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ORIGIN
    [stored] = records(runtime)
    assert (stored.site, stored.visitor_key, stored.method) == (
        "lumeninsights.example",
        KEY,
        "banner_choose",
    )
    assert (stored.analytics, stored.marketing) == (True, False)
    assert stored.policy_version == 1
    assert stored.banner_version == version
    assert stored.at.replace(tzinfo=dt.UTC) == START


def test_sc1_a_subdomain_of_a_declared_site_may_record(runtime: Runtime, web: TestClient) -> None:
    response = post(web, choice(), origin="https://app.lumeninsights.example")
    assert response.status_code == 204
    assert records(runtime)[0].policy_version is None  # nothing published yet


@pytest.mark.parametrize(
    "origin",
    [None, "https://elsewhere.example", "https://lumeninsights.example.evil.test", "null"],
)
def test_sc1_an_undeclared_origin_is_refused(
    runtime: Runtime, web: TestClient, origin: str | None
) -> None:
    response = post(web, choice(), origin=origin)
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    assert records(runtime) == []


def test_sc1_an_undeclared_site_is_refused(runtime: Runtime, web: TestClient) -> None:
    response = post(web, choice(site="elsewhere.example"))
    assert response.status_code == 403
    assert "elsewhere.example" in response.json()["detail"]
    assert records(runtime) == []


def test_sc1_preflight_answers_declared_origins_only(web: TestClient) -> None:
    headers = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    allowed = web.options("/api/consent", headers=headers)
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert allowed.headers["access-control-allow-headers"] == "content-type"
    headers["Origin"] = "https://elsewhere.example"
    refused = web.options("/api/consent", headers=headers)
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers


def test_co6_malformed_choices_get_400_with_a_message(runtime: Runtime, web: TestClient) -> None:
    bad = web.post("/api/consent", content=b"{oops", headers={"Origin": ORIGIN})
    assert bad.status_code == 400
    assert bad.json()["detail"] == "the body is not valid JSON"
    assert bad.headers["access-control-allow-origin"] == ORIGIN  # the banner can read why
    wrong = post(web, choice(visitor_key="198.51.100.4"))
    assert wrong.status_code == 400
    assert "visitor_key" in wrong.json()["detail"]
    assert records(runtime) == []


def test_co6_a_body_over_4_kilobytes_gets_413(runtime: Runtime, web: TestClient) -> None:
    big = json.dumps(choice(padding="x" * 5000))
    response = web.post("/api/consent", content=big, headers={"Origin": ORIGIN})
    assert response.status_code == 413

    def chunks() -> Iterator[bytes]:
        yield big.encode()

    streamed = web.post("/api/consent", content=chunks(), headers={"Origin": ORIGIN})
    assert streamed.status_code == 413
    assert records(runtime) == []


def test_co6_a_category_without_declared_cookies_is_stored_as_refused(
    runtime: Runtime, web: TestClient
) -> None:
    policy = runtime.settings.policy_file
    text = policy.read_text()
    start = text.index("  - name: troth_campaign")
    policy.write_text(text[:start] + text[text.index("beacons:") :])
    runtime.policy_changed()
    post(web, choice(choice={"analytics": True, "marketing": True}))
    assert records(runtime)[0].marketing is False


def test_co6_history_lists_a_visitors_choices_in_order(runtime: Runtime, web: TestClient) -> None:
    post(web, choice(method="banner_accept_all"))
    post(web, choice(visitor_key="f" * 32, method="banner_reject_all"))
    post(web, choice(method="withdrawn", choice={"analytics": False}))
    with runtime.transaction() as session:
        found = service.history(session, KEY)
        assert [r.method for r in found] == ["banner_accept_all", "withdrawn"]
        assert [r.analytics for r in found] == [True, False]


def test_co6_config_gives_the_declared_default_for_an_unknown_country(web: TestClient) -> None:
    response = web.get(
        "/api/consent/config", params={"site": "lumeninsights.example"}, headers={"Origin": ORIGIN}
    )
    assert response.status_code == 200
    assert response.json() == {"mode": "opt_out", "policy_version": None}
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["cache-control"] == "no-store"


def test_co6_config_asks_for_opt_in_in_a_declared_region(web: TestClient) -> None:
    app = web.app
    assert isinstance(app, FastAPI)
    app.dependency_overrides[routes.get_country_lookup] = lambda: lambda _ip: "FR"
    response = web.get("/api/consent/config", params={"site": "lumeninsights.example"})
    assert response.json()["mode"] == "opt_in"


def test_sc1_config_refuses_an_undeclared_site_or_origin(web: TestClient) -> None:
    site = web.get("/api/consent/config", params={"site": "elsewhere.example"})
    assert site.status_code == 403
    origin = web.get(
        "/api/consent/config",
        params={"site": "lumeninsights.example"},
        headers={"Origin": "https://elsewhere.example"},
    )
    assert origin.status_code == 403
    assert web.get("/api/consent/config").status_code == 422


def test_co6_console_page_counts_choices_by_day_and_method(
    runtime: Runtime, web: TestClient
) -> None:
    post(web, choice(method="banner_accept_all"))
    post(web, choice(method="banner_accept_all", visitor_key="a" * 32))
    post(web, choice(method="banner_reject_all", visitor_key="b" * 32))
    cookie, _ = session_for(runtime, add_user(runtime, "ana@lumeninsights.example", "analyst"))
    web.cookies.set("troth_session", cookie)
    page = web.get("/console/consent")
    assert page.status_code == 200
    row = page.text[page.text.index(START.date().isoformat()) :].split("</tr>")[0]
    cells = [cell.split("</td>")[0] for cell in row.split("<td>")[1:]]
    assert cells == ["2", "1", "0", "0", "0", "3"]


def test_co6_console_page_needs_view_analytics(runtime: Runtime, web: TestClient) -> None:
    cookie, _ = session_for(runtime, add_user(runtime, "sup@lumeninsights.example", "support"))
    web.cookies.set("troth_session", cookie)
    assert web.get("/console/consent").status_code == 403
