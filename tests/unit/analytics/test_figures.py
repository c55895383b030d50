"""Periods, filters and sketches: parsing, clear errors, exactness."""

from __future__ import annotations

import datetime as dt

import pytest

from troth.analytics.figures import Filters, Period
from troth.analytics.sketches import Merge
from troth.errors import BadRequest

TODAY = dt.date(2026, 3, 15)


@pytest.mark.parametrize(
    ("name", "start", "end"),
    [
        ("today", TODAY, TODAY),
        ("30d", dt.date(2026, 2, 14), TODAY),
        ("month", dt.date(2026, 3, 1), TODAY),
        ("last_month", dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
        ("12mo", dt.date(2025, 4, 1), TODAY),
    ],
)
def test_named_periods(name: str, start: dt.date, end: dt.date) -> None:
    assert Period.parse(name, TODAY) == Period(start, end)


def test_custom_period_and_previous() -> None:
    period = Period.parse("custom", TODAY, "2026-01-10", "2026-01-19")
    assert period.previous() == Period(dt.date(2025, 12, 31), dt.date(2026, 1, 9))
    for start, end in (("2026-01-10", None), ("x", "2026-01-01"), ("2026-02-01", "2026-01-01")):
        with pytest.raises(BadRequest):
            Period.parse("custom", TODAY, start, end)


def test_filters_parse_and_choose_rollups_or_raw_events() -> None:
    one = Filters.parse({"filter_country": "FR", "period": "7d"})
    assert one.values == (("country", "FR"),)
    assert one.rollup_slice == ("country", "FR")
    assert Filters.parse({"filter_browser": "Firefox"}).rollup_slice is None
    two = Filters.parse({"filter_country": "FR", "filter_device": "mobile"})
    assert two.rollup_slice is None
    with pytest.raises(BadRequest, match="unknown filter"):
        Filters.parse({"filter_colour": "red"})


def test_merged_sketch_is_exact_when_small_and_within_one_percent_when_large() -> None:
    small = Merge("")
    small.add_visitors(f"v{n}" for n in range(500))
    small.add_visitors(f"v{n}" for n in range(250, 750))
    assert small.result() == (750, True)
    big = Merge("")
    big.add_visitors(f"k{n}" for n in range(200_000))
    visitors, exact = big.result()
    assert not exact
    assert abs(visitors - 200_000) / 200_000 < 0.025
