"""Pair counts and sketch visitors of a day's final visits, computed from their columns,
against the product built key by key from the visits themselves (CO5)."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

import pytest

from troth.analytics import fanout
from troth.analytics.columns import Vocabulary, from_visits
from troth.analytics.fanout import fan_out
from troth.analytics.raw import RawVisit, visit_rows
from troth.analytics.visits import ROLLUP_FILTERS, VISIT_DIMENSIONS, Counts, Key

DAY = dt.date(2026, 4, 1)
PAGES = ["/", "/a", "/b", "/c", "/d"]


def random_visit(rng: random.Random, n: int) -> RawVisit:
    views = {p: rng.randint(1, 3) for p in rng.sample(PAGES, rng.randint(0, 3))}
    names = rng.sample(["signup", "export"], rng.randint(0, 2))
    custom = {name: rng.randint(1, 2) for name in names}
    values = {d: rng.choice(["", "x", "y"]) for d in VISIT_DIMENSIONS}
    values["source"] = rng.choice(["Direct / None", "ref.example", "x"])  # shares "x" with others
    if views:
        values["entry_page"], values["exit_page"] = rng.choice(list(views)), rng.choice(list(views))
    pageviews = sum(views.values())
    events = pageviews + sum(custom.values())
    return RawVisit(
        n, f"v{rng.randint(0, 30)}", DAY, values, pageviews, events, rng.randint(0, 10**12),
        page_views=views, page_events={p: c + rng.randint(0, 2) for p, c in views.items()},
        custom=custom,
    )  # fmt: skip


def key_by_key(visits: list[RawVisit]) -> tuple[dict[Key, Counts], dict[tuple, set[str]]]:
    counts: dict[Key, list[int]] = defaultdict(lambda: [0] * 5)
    visitors: dict[tuple, set[str]] = defaultdict(set)
    for visit in visits:
        slices = [(d, visit.values[d]) for d in ROLLUP_FILTERS if d != "page"]
        slices += [("page", path) for path in visit.page_views]
        for fdim, fvalue in slices:
            for dim, value, figures in visit_rows(visit):
                visitors[(fdim, fvalue, dim, value)].add(visit.visitor_key)
                row = counts[(visit.day, fdim, fvalue, dim, value)]
                row[:] = [a + b for a, b in zip(row, figures, strict=True)]
    return {k: tuple(v) for k, v in counts.items()}, visitors  # type: ignore[misc]


def fanned(visits: list[RawVisit]) -> tuple[dict[Key, Counts], dict[tuple, set[str]]]:
    words = Vocabulary(["unused"])  # codes that do not start at 0
    block = from_visits(DAY, visits, words)
    counts: dict[Key, Counts] = {}
    visitors: dict[tuple, set[str]] = defaultdict(set)
    for found in fan_out(block, [v.visitor_key for v in visits], words):
        assert not counts.keys() & found.counts.keys()  # each key comes from one pass
        counts.update(found.counts)
        for day, sub, who in found.visitors:
            assert day == DAY
            visitors[sub].update(who)
    return counts, visitors


@pytest.mark.parametrize(("seed", "piece"), [(1, fanout.PIECE), (2, 1), (3, 7), (4, 50)])
def test_co5_fan_out_equals_the_product_key_by_key(
    seed: int, piece: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fanout, "PIECE", piece)  # a product built in pieces of this many rows
    rng = random.Random(seed)
    visits = [random_visit(rng, n) for n in range(80)]
    assert fanned(visits) == key_by_key(visits)


def test_co5_fan_out_counts_a_visit_without_pageviews_in_its_visit_slices_only() -> None:
    visit = random_visit(random.Random(5), 1)
    visit.page_views, visit.page_events, visit.pageviews = {}, {}, 0
    for name in ("entry_page", "exit_page"):
        visit.values.pop(name, None)
    counts, _ = fanned([visit])
    assert counts == key_by_key([visit])[0]
    assert {key[1] for key in counts} == {"source", "country", "device"}


def test_co5_fan_out_of_no_visits_is_empty() -> None:
    words = Vocabulary()
    assert list(fan_out(from_visits(DAY, [], words), [], words)) == []
