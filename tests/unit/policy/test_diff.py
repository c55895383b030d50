"""Structural and textual differences between two declarations."""

from __future__ import annotations

from pathlib import Path

from troth.policy.diff import Change, ChangeKind, diff_declarations, flatten, text_diff
from troth.policy.loader import parse_policy
from troth.policy.render import render_markdown
from troth.policy.schema import Declaration

EXAMPLE = (Path(__file__).parents[3] / "src" / "troth" / "policy" / "example.yaml").read_text()
CAMPAIGN_COOKIE = """  - name: troth_campaign
    category: marketing
    purpose: promotional_messages
    lifetime_days: 90
    description: Remembers which campaign brought you to us.
"""
NEW_PURPOSE = """purposes:
  research:
    label: Research
    description: Study how our products are used, in aggregate.
    basis: legitimate_interest
    categories: [product_events]
    roles: [analyst]
"""


def declaration(*replacements: tuple[str, str]) -> Declaration:
    text = EXAMPLE
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return parse_policy(text).declaration


def by_path(changes: list[Change]) -> dict[str, Change]:
    return {change.path: change for change in changes}


def test_identical_declarations_have_no_changes() -> None:
    assert diff_declarations(declaration(), declaration()) == []


def test_a_changed_retention_is_found_with_old_and_new_values() -> None:
    longer = declaration(("    retention_days: 30\n", "    retention_days: 60\n"))
    changes = diff_declarations(declaration(), longer)
    assert changes == [Change("categories.ip.retention_days", ChangeKind.changed, 30, 60)]
    assert changes[0].render() == "~ categories.ip.retention_days: 30 -> 60"


def test_us1_an_added_purpose_is_found() -> None:
    more = declaration(("purposes:\n", NEW_PURPOSE))
    changes = by_path(diff_declarations(declaration(), more))
    assert changes["purposes.research.label"] == Change(
        "purposes.research.label", ChangeKind.added, new="Research"
    )
    assert all(path.startswith("purposes.research.") for path in changes)
    assert {change.kind for change in changes.values()} == {ChangeKind.added}


def test_co5_a_removed_cookie_is_found_by_its_name() -> None:
    fewer = declaration((CAMPAIGN_COOKIE, ""))
    changes = by_path(diff_declarations(declaration(), fewer))
    assert set(changes) == {
        f"cookies.troth_campaign.{field}"
        for field in ("name", "category", "purpose", "lifetime_days", "description")
    }
    assert changes["cookies.troth_campaign.lifetime_days"].kind is ChangeKind.removed
    assert changes["cookies.troth_campaign.lifetime_days"].old == 90


def test_reordering_lists_is_not_a_change() -> None:
    reordered = declaration(
        (CAMPAIGN_COOKIE, ""),
        ("cookies:\n", "cookies:\n" + CAMPAIGN_COOKIE),
        ("regions: [US, DE]", "regions: [DE, US]"),
        (
            "categories: [name, email, ip, access_times, payment_card]",
            "categories: [payment_card, ip, name, email, access_times]",
        ),
    )
    assert reordered.cookies[0].name == "troth_campaign"
    assert diff_declarations(declaration(), reordered) == []


def test_a_list_of_values_that_changes_is_one_change() -> None:
    more = declaration(("regions: [US, DE]", "regions: [US, DE, IE]"))
    assert diff_declarations(declaration(), more) == [
        Change("storage.regions", ChangeKind.changed, ["US", "DE"], ["US", "DE", "IE"])
    ]


def test_flatten_keys_lists_by_id_then_name_then_position() -> None:
    flat = flatten(
        {
            "parties": [{"id": "a", "name": "A"}],
            "group": [{"name": "X", "n": 1}],
            "plain": [{"n": 1}, {"n": 2}],
        }
    )
    assert flat == {
        "parties.a.id": "a",
        "parties.a.name": "A",
        "group.X.name": "X",
        "group.X.n": 1,
        "plain.0.n": 1,
        "plain.1.n": 2,
    }


def test_text_diff_shows_the_changed_lines_of_the_policy() -> None:
    old, new = declaration(), declaration(("    retention_days: 30\n", "    retention_days: 60\n"))
    diff = text_diff(render_markdown(old), render_markdown(new), "version 1", "current")
    assert diff.startswith("--- version 1\n+++ current\n")
    assert "\n-| IP address | 30 days |\n" in diff
    assert "\n+| IP address | 60 days |\n" in diff
