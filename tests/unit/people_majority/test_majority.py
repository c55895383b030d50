"""The age-of-majority table and age arithmetic (CH1), without a database."""

from __future__ import annotations

import datetime as dt

import pytest

from troth.people.majority import FLOOR, TABLE, age_on, threshold
from troth.policy.schema import Children


@pytest.mark.parametrize(
    ("jurisdiction", "expected", "matched"),
    [
        ("US-AL", 19, "US-AL"),
        ("US-NE", 19, "US-NE"),
        ("US-MS", 21, "US-MS"),
        ("US-OR", 18, None),
        ("us-ms", 21, "US-MS"),
        ("KR", 19, "KR"),
        ("TH", 20, "TH"),
        ("CA-BC", 19, "CA-BC"),
        ("CA-NU", 19, "CA-NU"),
        ("CA-ON", 18, None),
        ("DE", 18, None),
        ("KR-11", 19, "KR"),
    ],
)
def test_ch1_threshold_by_jurisdiction(
    jurisdiction: str, expected: int, matched: str | None
) -> None:
    rule = threshold(jurisdiction)
    assert (rule.threshold, rule.matched, rule.needs_review) == (expected, matched, False)


def test_ch1_every_canadian_province_at_19_is_listed() -> None:
    listed = {code for code, entry in TABLE.items() if code.startswith("CA-") and entry.age == 19}
    assert listed == {"CA-BC", "CA-NB", "CA-NL", "CA-NS", "CA-NT", "CA-NU", "CA-YT"}


def test_ch1_every_entry_names_its_source() -> None:
    assert all(entry.source.strip() and entry.age > FLOOR for entry in TABLE.values())


@pytest.mark.parametrize("jurisdiction", [None, "", "XX", "US-ZZ", "Atlantis", "U"])
def test_ch1_unknown_or_missing_jurisdiction_uses_18_and_is_flagged(
    jurisdiction: str | None,
) -> None:
    rule = threshold(jurisdiction)
    assert rule.threshold == 18
    assert rule.needs_review
    assert rule.matched is None


def test_ch1_the_declaration_overrides_and_extends_the_table() -> None:
    children = Children(ages_of_majority={"US-AL": 18, "US": 20, "AE": 21})
    assert threshold("US-AL", children).threshold == 18
    assert threshold("US-OR", children).threshold == 20
    assert threshold("US-OR", children).matched == "US"
    assert threshold("US-MS", children).threshold == 21  # not overridden: the table stands
    declared = threshold("AE", children)
    assert (declared.threshold, declared.source) == (
        21,
        "the declaration (children.ages_of_majority)",
    )


def test_ch1_the_threshold_is_never_below_18() -> None:
    children = Children(default_age_of_majority=16, ages_of_majority={"GB-SCT": 16})
    assert threshold("GB-SCT", children).threshold == 18
    assert threshold("FR", children).threshold == 18
    assert threshold(None, children).threshold == 18


def test_ch1_a_higher_declared_default_applies_everywhere_unlisted() -> None:
    children = Children(default_age_of_majority=21)
    assert threshold("DE", children).threshold == 21
    assert threshold("US-AL", children).threshold == 19  # the local entry wins where it exists


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2026, 6, 14), 17),  # the day before the 18th birthday
        (dt.date(2026, 6, 15), 18),  # the birthday itself
        (dt.date(2026, 6, 16), 18),
        (dt.date(2027, 6, 14), 18),
        (dt.date(2026, 1, 1), 17),
        (dt.date(2025, 12, 31), 17),
    ],
)
def test_ch1_age_in_whole_years_around_the_birthday(today: dt.date, expected: int) -> None:
    assert age_on(dt.date(2008, 6, 15), today) == expected


def test_ch1_a_leap_day_birthday_counts_from_the_first_of_march() -> None:
    born = dt.date(2008, 2, 29)
    assert age_on(born, dt.date(2026, 2, 28)) == 17
    assert age_on(born, dt.date(2026, 3, 1)) == 18
    assert age_on(born, dt.date(2028, 2, 29)) == 20
