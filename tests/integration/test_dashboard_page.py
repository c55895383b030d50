"""The console's analytics dashboard (CO5, CO4, US1): rendered on the server from the same
answers as the API, no inline script or style, filters as links, CSV exports, and only for
roles that may act for the purpose the statistics serve."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from fastapi.testclient import TestClient

from tests.integration.test_stats_api import store_fixture
from tests.unit.security.support import START, FakeClock, add_user, app_with_clock, session_for
from troth.runtime import Runtime

DASHBOARD = "/console/analytics"


def console_client(runtime: Runtime, role: str) -> TestClient:
    client = TestClient(app_with_clock(runtime, FakeClock(START)))
    user_id = add_user(runtime, f"{role}.viewer@lumeninsights.example", role)
    cookie, _ = session_for(runtime, user_id)
    client.cookies.set("troth_session", cookie)
    return client


@pytest.fixture
def analyst(runtime: Runtime) -> TestClient:
    store_fixture(runtime)
    return console_client(runtime, "analyst")


def chart_of(html: str) -> dict[str, object]:
    found = re.search(r"data-chart='([^']*)'", html)
    assert found is not None
    data: dict[str, object] = json.loads(found.group(1))
    return data


def test_co5_dashboard_renders_figures_chart_and_tables(analyst: TestClient) -> None:
    page = analyst.get(DASHBOARD, params={"period": "30d"})
    assert page.status_code == 200
    html = page.text
    assert 'data-figure="visitors">4<' in html
    assert 'data-figure="bounce_rate">50%<' in html
    assert "Germany" in html
    assert "United States" in html
    assert "/static/vendor/uplot/uPlot.iife.min.js" in html
    chart = chart_of(html)
    assert len(chart["days"]) == 30  # type: ignore[arg-type]
    assert sum(chart["current"]["visitors"]) == 4  # type: ignore[index]
    assert "counted once per day" in html
    assert (
        'href="/console/analytics?site=lumeninsights.example&amp;period=30d&amp;filter_country=DE"'
        in html
    )


def test_co5_dashboard_has_no_inline_script_or_style(analyst: TestClient) -> None:
    page = analyst.get(DASHBOARD)
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text) is None
    assert "style=" not in page.text
    assert "<style" not in page.text
    assert "https://" not in page.text.split("<body", 1)[0]


def test_co5_filters_show_as_chips_and_combine(analyst: TestClient) -> None:
    page = analyst.get(DASHBOARD, params={"filter_country": "US", "filter_device": "mobile"})
    html = page.text
    assert 'data-figure="visitors">1<' in html
    assert "Country is United States" in html
    assert "Device is Mobile" in html
    assert "Clear all" in html


def test_co4_filtering_on_an_event_shows_its_properties(analyst: TestClient) -> None:
    html = analyst.get(DASHBOARD, params={"filter_event": "signup"}).text
    assert 'id="properties"' in html
    assert "<td>plan</td><td>team</td>" in html


def test_co5_the_day_note_is_left_out_for_one_day(analyst: TestClient) -> None:
    html = analyst.get(DASHBOARD, params={"period": "today"}).text
    assert "counted once per day" not in html
    assert 'data-figure="visitors">1<' in html


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"period": "fortnight"}, 400, "unknown period"),
        ({"period": "custom", "start": "2026-02-30", "end": "2026-03-01"}, 400, "YYYY-MM-DD"),
        ({"site": "elsewhere.example"}, 404, "no such site"),
        ({"filter_colour": "red"}, 400, "unknown filter"),
    ],
)
def test_co5_bad_views_say_what_is_wrong(
    analyst: TestClient, params: dict[str, str], status: int, words: str
) -> None:
    page = analyst.get(DASHBOARD, params=params)
    assert page.status_code == status
    assert words in page.text
    assert "<form" in page.text


def test_co5_exports_have_a_header_and_the_page_numbers(analyst: TestClient) -> None:
    whole = analyst.get(f"{DASHBOARD}/export.csv", params={"period": "30d"})
    assert whole.status_code == 200
    assert whole.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(whole.text)))
    totals = next(r for r in rows if r["panel"] == "totals" and r["value"] == "current")
    assert (int(totals["visitors"]), int(totals["pageviews"])) == (4, 6)
    countries = analyst.get(f"{DASHBOARD}/export.csv", params={"panel": "country"})
    assert countries.text.splitlines()[0].startswith("value,visitors")
    assert "US,2," in countries.text
    wanted = {"panel": "properties", "filter_event": "signup"}
    props = analyst.get(f"{DASHBOARD}/export.csv", params=wanted)
    assert props.text.splitlines() == ["property,value,events,visitors", "plan,team,1,1"]
    assert analyst.get(f"{DASHBOARD}/export.csv", params={"panel": "colour"}).status_code == 400


def test_co5_right_now_figure_for_the_refresh(analyst: TestClient) -> None:
    response = analyst.get(f"{DASHBOARD}/realtime")
    assert response.json() == {"visitors": 1}


@pytest.mark.parametrize("path", ["", "/realtime", "/export.csv"])
def test_us1_auditor_is_refused_the_dashboard(runtime: Runtime, path: str) -> None:
    auditor = console_client(runtime, "auditor")
    response = auditor.get(f"{DASHBOARD}{path}", headers={"Accept": "text/html"})
    assert response.status_code == 403
    assert "understand_experience" in response.text


def test_us1_signed_out_visitors_are_sent_to_sign_in(runtime: Runtime) -> None:
    client = TestClient(app_with_clock(runtime, FakeClock(START)))
    response = client.get(DASHBOARD, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/sign-in"
