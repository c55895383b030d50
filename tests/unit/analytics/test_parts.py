"""The settled-parts cache keeps to its count and byte limits (CO5: a dashboard's memory)."""

from __future__ import annotations

import datetime as dt

from troth.analytics import parts
from troth.analytics.kept import Kept
from troth.analytics.parts import Totals, Values
from troth.analytics.sketches import empty

DAY = dt.date(2026, 4, 1)


def totals_part(days: int) -> Totals:
    sketch = empty("")
    for n in range(20_000):  # past list and set mode: a dense lg_k 16 sketch, 64 KB
        sketch.update(n)
    daily = {DAY + dt.timedelta(days=n): (1, 1, 1, 0, 0) for n in range(days)}
    return Totals(daily, dict.fromkeys(daily, sketch), sketch)


def test_co5_a_part_is_sized_by_its_sketches_and_entries() -> None:
    big, small = totals_part(30).size(), totals_part(1).size()
    assert big > 30 * 60_000
    assert small < big / 10
    values = Values({"page": {"/a": (1, 1, 1, 0, 0), "/b": (2, 2, 1, 0, 0)}})
    before = values.size()
    values.sketches[("page", "/a")] = empty("page")
    assert values.size() > before


def test_co5_kept_parts_stay_under_the_byte_budget() -> None:
    size = totals_part(30).size()
    kept = Kept(3 * size, parts.KEPT)
    for n in range(10):
        kept.put(("totals", n), totals_part(30), size)
    count, held = kept.held()
    assert count == 3
    assert held <= 3 * size
    assert kept.get(("totals", 0)) is None
    assert kept.get(("totals", 9)) is not None


def test_co5_a_part_that_grows_is_counted_again() -> None:
    kept = Kept(parts.BUDGET, parts.KEPT)
    kept.put(("values", 1), "part", 100)
    kept.put(("values", 1), "part", 250)
    assert kept.held() == (1, 250)
    kept.clear()
    assert kept.held() == (0, 0)


def test_co5_one_part_larger_than_the_budget_is_still_kept() -> None:
    kept = Kept(10)
    kept.put(("totals", 1), "a", 5)
    kept.put(("totals", 2), "b", 50)
    assert kept.held() == (1, 50)
    assert kept.get(("totals", 2)) == "b"
