"""Demo traffic (CO5, CO4): a few months of plausible visits, stored through the ingest hooks."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from troth.analytics import queries
from troth.analytics.demo import Generator, generate_demo_traffic
from troth.collect.models import StoredEvent
from troth.runtime import Runtime

SITE = "lumeninsights.example"
NOW = dt.datetime(2026, 11, 2, 15, 30, tzinfo=dt.UTC)
COLUMNS = {column.name for column in StoredEvent.__table__.columns} - {"id", "visit_id"}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    generator = Generator(SITE, ["app", "docs"], 56, 7, NOW)
    found: list[dict[str, Any]] = []
    for offset in range(56):
        found.extend(generator.rows_for(generator.first_day + dt.timedelta(days=offset)))
    return found


def test_co5_rows_carry_every_event_column_and_stay_in_the_past(rows: list[dict[str, Any]]) -> None:
    assert all(set(row) == COLUMNS for row in rows)
    assert max(row["ts"] for row in rows) <= NOW
    assert min(row["ts"] for row in rows).date() == NOW.date() - dt.timedelta(days=55)
    assert {row["hostname"] for row in rows} == {
        SITE, f"app.{SITE}", f"docs.{SITE}"
    }  # fmt: skip


def test_co5_same_seed_same_traffic() -> None:
    def first_day(seed: int) -> list[tuple[Any, ...]]:
        generator = Generator(SITE, ["app"], 3, seed, NOW)
        return [
            (r["ts"], r["path"], r["visitor_key"]) for r in generator.rows_for(generator.first_day)
        ]

    assert first_day(1) == first_day(1)
    assert first_day(1) != first_day(2)


def test_co5_weekdays_busier_than_weekends_and_traffic_grows(rows: list[dict[str, Any]]) -> None:
    per_day = Counter(row["ts"].date() for row in rows if row["kind"] == "pageview")
    weekday = [n for day, n in per_day.items() if day.weekday() < 5]
    weekend = [n for day, n in per_day.items() if day.weekday() >= 5]
    assert sum(weekday) / len(weekday) > 1.4 * sum(weekend) / len(weekend)
    days = sorted(per_day)
    first_weeks = sum(per_day[d] for d in days[:14])
    last_weeks = sum(per_day[d] for d in days[-15:-1])
    assert last_weeks > first_weeks


def test_co5_a_varied_audience(rows: list[dict[str, Any]]) -> None:
    visitors = {row["visitor_key"]: row for row in rows}.values()
    assert len({row["country"] for row in rows}) >= 35
    assert {"desktop", "mobile", "tablet"} <= {row["device"] for row in rows}
    assert len({row["browser"] for row in rows}) >= 6
    assert len({row["language"] for row in rows}) >= 15
    cookieless = sum(row["cookieless"] for row in visitors) / len(visitors)
    assert 0.2 < cookieless < 0.6  # ~30 % of people, who count once a day
    sources = Counter(row["referrer_host"] for row in rows if row["referrer_host"])
    assert {"google.com", "news.ycombinator.com", "github.com"} <= set(sources)
    assert {row["utm_campaign"] for row in rows} >= {"weekly-digest", "spring-launch"}


def test_co4_custom_events_with_properties(rows: list[dict[str, Any]]) -> None:
    events = [row for row in rows if row["kind"] == "event"]
    assert {"feature_used", "signup", "export"} <= {row["name"] for row in events}
    features = {row["props"]["feature"] for row in events if row["name"] == "feature_used"}
    assert len(features) >= 5


def test_co5_pages_follow_a_long_tail(rows: list[dict[str, Any]]) -> None:
    views = Counter(row["path"] for row in rows if row["kind"] == "pageview")
    counts = sorted(views.values(), reverse=True)
    assert len(counts) >= 25
    assert counts[0] > 5 * counts[-1]


def test_co5_demo_traffic_is_stored_once_and_answers_the_dashboard(runtime: Runtime) -> None:
    stored = generate_demo_traffic(runtime, days=5, seed=3, now=NOW)
    assert stored > 3000
    assert generate_demo_traffic(runtime, days=5, seed=3, now=NOW) == 0
    with runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(StoredEvent)) == stored
        period = queries.Period.parse("7d", NOW.date())
        totals = queries.totals(session, SITE, period)
        assert totals.visits > 1000
        assert 25 < totals.bounce_rate < 60
        assert totals.pageviews > totals.visits
        assert queries.realtime_visitors(session, SITE, NOW) >= 3
