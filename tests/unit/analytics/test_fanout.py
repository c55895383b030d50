"""Pair counts and sketch visitors of many final visits, against the product built key by key
(CO5)."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

import pytest

from troth.analytics import fanout
from troth.analytics.fanout import Final, fan_out
from troth.analytics.visits import Counts, Key

DAY = dt.date(2026, 4, 1)


def random_visits(rng: random.Random, n: int) -> list[Final]:
    visits = []
    for _ in range(n):
        pages = rng.sample(["/", "/a", "/b", "/c", "/d"], rng.randint(0, 3))
        own = [("", "", (len(pages), len(pages), 1, int(len(pages) == 1), rng.randint(0, 9)))]
        own += [("page", path, (1, 1, 1, 0, rng.randint(0, 9))) for path in pages]
        own += [("browser", rng.choice(["Chrome", "Firefox"]), (1, 2, 1, 0, 5))]
        slices = [("country", rng.choice(["DE", "FR", ""])), *(("page", p) for p in pages)]
        day = DAY + dt.timedelta(days=rng.randint(0, 1))
        visits.append(Final(day, f"v{rng.randint(0, 30)}", own, slices))
    return visits


def one_by_one(visits: list[Final]) -> tuple[dict[Key, Counts], dict[tuple, set[str]]]:
    counts: dict[Key, list[int]] = defaultdict(lambda: [0] * 5)
    visitors: dict[tuple, set[str]] = defaultdict(set)
    for visit in visits:
        for fdim, fvalue in [("", ""), *visit.slices]:
            for dim, value, figures in visit.own:
                visitors[(visit.day, (fdim, fvalue, dim, value))].add(visit.visitor)
                if fdim:
                    row = counts[(visit.day, fdim, fvalue, dim, value)]
                    row[:] = [a + b for a, b in zip(row, figures, strict=True)]
    return {k: tuple(v) for k, v in counts.items()}, visitors  # type: ignore[misc]


@pytest.mark.parametrize("chunk", [1, 7, 20_000])
def test_co5_fan_out_equals_the_product_key_by_key(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fanout, "CHUNK", chunk)
    visits = random_visits(random.Random(chunk), 60)
    counts: dict[Key, list[int]] = defaultdict(lambda: [0] * 5)
    visitors: dict[tuple, set[str]] = defaultdict(set)
    for fanned in fan_out(visits):
        for key, figures in fanned.counts.items():
            counts[key] = [a + b for a, b in zip(counts[key], figures, strict=True)]
        for day, sub, who in fanned.visitors:
            visitors[(day, sub)].update(who)
    expected_counts, expected_visitors = one_by_one(visits)
    assert {k: tuple(v) for k, v in counts.items()} == expected_counts
    assert visitors == expected_visitors
    assert all(key[1] for key in counts)  # unfiltered counts are kept elsewhere


def test_co5_fan_out_of_visits_without_rows_is_empty() -> None:
    assert [f.counts for f in fan_out([])] == []
    (fanned,) = fan_out([Final(DAY, "v", [], [("country", "DE")])])
    assert fanned.counts == {}
    assert fanned.visitors == []
