"""The stats API (CO5, CO4, US1): figures that match a hand count, CSV with the same numbers,
filters that combine, comparison with the previous period, clear 4xx answers to bad
questions, and the analyst's purpose checked by the guard."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.unit.security.support import START, FakeClock, add_token, app_with_clock
from troth.collect.ingest import store_rows
from troth.runtime import Runtime

SITE = "lumeninsights.example"
COLUMNS = {
    "name": "", "title": "", "hostname": SITE, "referrer_host": "", "referrer_path": "",
    "utm_source": "", "utm_medium": "", "utm_campaign": "", "utm_term": "", "utm_content": "",
    "country": "", "language": "en", "browser": "Chrome", "browser_version": "124", "os": "Windows",
    "os_version": "11", "device": "desktop", "props": None, "ip": "", "person_id": None,
}  # fmt: skip
A, B, C, D, E = ("a" * 32, "b" * 32, "c" * 32, "d" * 32, "e" * 32)


def event(visitor: str, ts: str, path: str, **extra: Any) -> dict[str, Any]:
    row = {**COLUMNS, "site": SITE, "kind": "pageview", "path": path, "visitor_key": visitor}
    row |= {"ts": dt.datetime.fromisoformat(ts).replace(tzinfo=dt.UTC), "cookieless": False}
    return row | extra


def fixture_rows() -> list[dict[str, Any]]:
    """Four visits in the last 30 days (to 2026-11-02) and one in the 30 days before.

    A: 2 pageviews and a signup, 180 s, from google.com, Germany, Firefox on Linux.
    B: a bounce, direct, cookieless, United States.
    C: 2 pageviews, 300 s, from news.ycombinator.com with a campaign, US, mobile.
    D: a bounce two minutes before "now" (2026-11-02 09:00), direct, France.
    E: a bounce on 2026-10-01 (the previous period), United Kingdom.
    """
    de = {"country": "DE", "language": "de", "browser": "Firefox", "os": "Linux"}
    us_mobile = {"country": "US", "device": "mobile", "os": "iOS", "browser": "Mobile Safari"}
    hn = {"referrer_host": "news.ycombinator.com", "utm_campaign": "launch"}
    return [
        event(E, "2026-10-01T10:00:00", "/", country="GB"),
        event(A, "2026-10-30T10:00:00", "/", referrer_host="google.com", **de),
        event(A, "2026-10-30T10:02:00", "/pricing", **de),
        event(
            A,
            "2026-10-30T10:03:00",
            "/pricing",
            kind="event",
            name="signup",
            props={"plan": "team"},
            **de,
        ),
        event(B, "2026-10-31T12:00:00", "/", country="US", cookieless=True),
        event(C, "2026-11-01T08:00:00", "/docs", **us_mobile, **hn),
        event(C, "2026-11-01T08:05:00", "/", **us_mobile),
        event(D, "2026-11-02T08:58:00", "/pricing", country="FR"),
    ]


def store_fixture(runtime: Runtime) -> None:
    with runtime.transaction() as session:
        store_rows(session, fixture_rows())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(runtime: Runtime) -> TestClient:
    store_fixture(runtime)
    client = TestClient(app_with_clock(runtime, FakeClock(START)))
    client.headers.update(bearer(add_token(runtime, "analyst")))
    return client


def get(api: TestClient, path: str, **params: Any) -> Any:
    response = api.get(f"/api/v1/stats/{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_co5_totals_agree_with_a_hand_count(api: TestClient) -> None:
    body = get(api, "totals", period="30d")
    assert body["site"] == SITE
    assert body["period"] == {"start": "2026-10-04", "end": "2026-11-02", "days": 30}
    totals = body["totals"]
    assert (totals["visitors"], totals["visits"], totals["pageviews"]) == (4, 4, 6)
    assert totals["events"] == 7  # every event: 6 page views and a signup
    assert totals["views_per_visit"] == 1.5
    assert totals["bounce_rate"] == 50.0
    assert totals["visit_duration"] == 120.0


def test_co5_compare_with_the_previous_period(api: TestClient) -> None:
    body = get(api, "totals", period="30d", compare="true")
    assert body["previous_period"] == {"start": "2026-09-04", "end": "2026-10-03", "days": 30}
    assert body["previous"]["visitors"] == 1
    assert body["change"]["visitors"] == 300.0
    assert body["change"]["bounce_rate"] == -50.0


def test_co5_filters_combine(api: TestClient) -> None:
    us = get(api, "totals", filter_country="US")
    assert (us["totals"]["visitors"], us["totals"]["pageviews"]) == (2, 3)
    assert us["filters"] == {"country": "US"}
    both = get(api, "totals", filter_country="US", filter_device="mobile")
    assert (both["totals"]["visitors"], both["totals"]["visits"]) == (1, 1)
    page = get(api, "totals", filter_page="/pricing")
    assert page["totals"]["visitors"] == 2


def test_co5_breakdowns_sources_countries_and_pages(api: TestClient) -> None:
    sources = get(api, "breakdown/source")["rows"]
    assert [(r["value"], r["visitors"]) for r in sources] == [
        ("Direct / None", 2), ("google.com", 1), ("news.ycombinator.com", 1)
    ]  # fmt: skip
    countries = {r["value"]: r["visitors"] for r in get(api, "breakdown/country")["rows"]}
    assert countries == {"US": 2, "DE": 1, "FR": 1}
    pages = {
        r["value"]: (r["visitors"], r["pageviews"]) for r in get(api, "breakdown/page")["rows"]
    }
    assert pages["/pricing"] == (2, 2)
    assert pages["/"] == (3, 3)
    entry = {r["value"] for r in get(api, "breakdown/entry_page")["rows"]}
    assert entry == {"/", "/docs", "/pricing"}
    paged = get(api, "breakdown/country", limit=1, offset=1)
    assert [r["value"] for r in paged["rows"]] == ["DE"]


def test_co4_custom_events_and_their_properties(api: TestClient) -> None:
    events = get(api, "breakdown/event")["rows"]
    assert [(r["value"], r["events"], r["visitors"]) for r in events] == [("signup", 1, 1)]
    props = get(api, "events/signup/properties")
    assert props["event"] == "signup"
    assert props["properties"] == [{"key": "plan", "value": "team", "events": 1, "visitors": 1}]


def test_co5_series_has_every_day_and_realtime_counts_the_last_minutes(api: TestClient) -> None:
    points = get(api, "series", period="7d")["points"]
    assert points[0]["day"] == "2026-10-27"
    assert len(points) == 7
    by_day = {p["day"]: p["visitors"] for p in points}
    assert by_day["2026-10-30"] == 1
    assert by_day["2026-10-28"] == 0
    assert get(api, "realtime")["visitors"] == 1


def test_co5_dashboard_answers_every_panel(api: TestClient) -> None:
    body = get(api, "dashboard", compare="true")
    assert body["totals"]["visitors"] == 4
    assert body["previous"]["visitors"] == 1
    assert len(body["series"]) == 30
    assert {"page", "source", "country", "event", "browser"} <= set(body["breakdowns"])
    assert body["realtime_visitors"] == 1
    assert body["source"] in {"rollups", "visit columns"}


def test_co5_sites_lists_the_declared_site(api: TestClient) -> None:
    body = get(api, "sites")
    assert body["default"] == SITE
    assert {"site": SITE, "declared": True, "has_events": True} in body["sites"]


def test_co5_csv_has_a_header_and_the_same_numbers_as_json(api: TestClient) -> None:
    as_json = get(api, "breakdown/country")["rows"]
    response = api.get("/api/v1/stats/breakdown/country", params={"format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.text.splitlines()[0] == (
        "value,visitors,visits,pageviews,events,bounce_rate,visit_duration"
    )
    rows = read_csv(response.text)
    assert [(r["value"], int(r["visitors"]), float(r["bounce_rate"])) for r in rows] == [
        (r["value"], r["visitors"], r["bounce_rate"]) for r in as_json
    ]


def test_co5_csv_by_accept_header_for_totals_and_dashboard(api: TestClient) -> None:
    totals = api.get("/api/v1/stats/totals?compare=true", headers={"Accept": "text/csv"})
    lines = read_csv(totals.text)
    assert [(r["period"], int(r["visitors"]), int(r["pageviews"])) for r in lines] == [
        ("current", 4, 6), ("previous", 1, 1)
    ]  # fmt: skip
    board = read_csv(api.get("/api/v1/stats/dashboard", params={"format": "csv"}).text)
    panels = {(r["panel"], r["value"]): r for r in board}
    assert int(panels[("totals", "current")]["visitors"]) == 4
    assert int(panels[("country", "US")]["visitors"]) == 2
    assert int(panels[("realtime", "visitors right now")]["visitors"]) == 1


def test_co5_csv_cells_cannot_become_spreadsheet_formulas(
    runtime: Runtime, api: TestClient
) -> None:
    with runtime.transaction() as session:
        store_rows(session, [event(B, "2026-11-02T07:00:00", "/", utm_campaign="=HYPERLINK(1)")])
    text = api.get("/api/v1/stats/breakdown/utm_campaign", params={"format": "csv"}).text
    assert "'=HYPERLINK(1)" in text


@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        ("breakdown/colour", {}, 400, "unknown dimension"),
        ("totals", {"period": "fortnight"}, 400, "period"),
        ("totals", {"site": "nope.example"}, 404, "no such site"),
        ("realtime", {"site": "nope.example"}, 404, "no such site"),
        ("totals", {"period": "custom", "start": "2026-13-01", "end": "2026-11-01"}, 400, ""),
        ("totals", {"period": "custom", "start": "2026-11-01"}, 400, ""),
        ("series", {"period": "custom", "start": "2026-11-02", "end": "2026-10-01"}, 400, ""),
        ("totals", {"filter_colour": "red"}, 400, "colour"),
        ("breakdown/page", {"limit": "0"}, 422, ""),
        ("breakdown/page", {"limit": "many"}, 422, ""),
        ("totals", {"format": "xml"}, 422, ""),
        ("totals", {"compare": "maybe"}, 422, ""),
    ],
)
def test_co5_bad_questions_get_a_clear_4xx(
    api: TestClient, path: str, params: dict[str, str], status: int, words: str
) -> None:
    response = api.get(f"/api/v1/stats/{path}", params=params)
    assert response.status_code == status, response.text
    detail = str(response.json()["detail"])
    assert words in detail


STATS_PATHS = ["sites", "totals", "series", "breakdown/page", "events/signup/properties",
               "realtime", "dashboard"]  # fmt: skip


@pytest.mark.parametrize("role", ["auditor", "support"])
def test_us1_roles_without_the_purpose_are_refused(runtime: Runtime, role: str) -> None:
    client = TestClient(app_with_clock(runtime, FakeClock(START)))
    headers = bearer(add_token(runtime, role))
    for path in STATS_PATHS:
        response = client.get(f"/api/v1/stats/{path}", params={"period": "bad"}, headers=headers)
        assert response.status_code == 403, path
        assert "understand_experience" in response.json()["detail"]


def test_us1_marketing_and_admin_may_read_stats(runtime: Runtime) -> None:
    client = TestClient(app_with_clock(runtime, FakeClock(START)))
    for role in ("marketing", "admin"):
        response = client.get("/api/v1/stats/totals", headers=bearer(add_token(runtime, role)))
        assert response.status_code == 200
        assert response.json()["totals"]["visitors"] == 0


def test_co5_openapi_documents_every_stats_route_with_its_model(runtime: Runtime) -> None:
    schema = TestClient(app_with_clock(runtime, FakeClock())).get("/api/openapi.json").json()
    for path in ["/api/v1/stats/sites", "/api/v1/stats/totals", "/api/v1/stats/series",
                 "/api/v1/stats/breakdown/{dimension}", "/api/v1/stats/events/{name}/properties",
                 "/api/v1/stats/realtime", "/api/v1/stats/dashboard"]:  # fmt: skip
        content = schema["paths"][path]["get"]["responses"]["200"]["content"]
        assert "$ref" in str(content["application/json"]["schema"]), path
        assert "text/csv" in content
    totals = schema["paths"]["/api/v1/stats/totals"]["get"]["parameters"]
    names = {p["name"] for p in totals}
    assert {"site", "period", "start", "end", "compare", "filter_country", "filter_page"} <= names
