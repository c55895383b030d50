"""Loading `policy.yaml`: schema errors name their line; the content hash ignores formatting."""

from __future__ import annotations

from pathlib import Path

import pytest

from troth.errors import BadRequest
from troth.policy.loader import PolicyError, Problem, load_policy, parse_policy

EXAMPLE_FILE = Path(__file__).parents[3] / "src" / "troth" / "policy" / "example.yaml"
EXAMPLE = EXAMPLE_FILE.read_text(encoding="utf-8")


def edited(old: str, new: str) -> str:
    assert EXAMPLE.count(old) == 1, f"{old!r} must occur once in the example"
    return EXAMPLE.replace(old, new)


def line_at(source: str, text: str) -> int:
    assert source.count(text) == 1, f"{text!r} must occur once"
    return source[: source.index(text)].count("\n") + 1


def problems(source: str) -> list[Problem]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(source)
    return caught.value.problems


@pytest.mark.parametrize(
    ("old", "new", "path", "at"),
    [
        pytest.param(
            "relation: subsidiary",
            "relation: sister",
            ("organization", "group", 0, "relation"),
            "relation: sister",
            id="enum",
        ),
        pytest.param(
            "lifetime_days: 1\n",
            "lifetime_days: -1\n",
            ("cookies", 1, "lifetime_days"),
            "lifetime_days: -1",
            id="negative-lifetime",
        ),
        pytest.param(
            "description: A fax number, if you still use one.\n",
            "description: A fax number, if you still use one.\n    colour: blue\n",
            ("categories", "fax", "colour"),
            "colour: blue",
            id="unknown-key",
        ),
        pytest.param(
            "{kind: eu_law, country: IE}",
            "{kind: eu_law, country: ireland}",
            ("third_parties", 1, "safeguard", "country"),
            "country: ireland",
            id="flow-mapping",
        ),
    ],
)
def test_schema_errors_name_their_line(
    old: str, new: str, path: tuple[str | int, ...], at: str
) -> None:
    source = edited(old, new)
    [problem] = problems(source)
    assert problem.path == path
    assert problem.line == line_at(source, at)


def test_every_schema_error_is_reported_at_once() -> None:
    source = edited("relation: subsidiary", "relation: sister").replace(
        "lifetime_days: 1\n", "lifetime_days: -1\n"
    )
    assert [p.path for p in problems(source)] == [
        ("organization", "group", 0, "relation"),
        ("cookies", 1, "lifetime_days"),
    ]


def test_policy_error_renders_one_line_per_problem() -> None:
    source = edited("relation: subsidiary", "relation: sister")
    with pytest.raises(PolicyError) as caught:
        parse_policy(source, "policy.yaml")
    [line] = caught.value.message.splitlines()
    assert line.startswith(
        f"policy.yaml:{line_at(source, 'relation: sister')}: organization.group.0.relation: "
    )


def test_invalid_yaml_is_one_problem_with_its_line() -> None:
    source = edited("  short_name: Lumen\n", "  short_name: [Lumen\n")
    [problem] = problems(source)
    assert problem.message.startswith("not valid YAML")
    assert problem.path == ()
    assert problem.line is not None
    assert line_at(source, "[Lumen") <= problem.line <= line_at(source, "[Lumen") + 2


@pytest.mark.parametrize("source", ["- a\n- b\n", "just words\n", ""])
def test_the_document_must_be_a_mapping(source: str) -> None:
    [problem] = problems(source)
    assert problem.message == "the declaration must be a mapping"


def test_a_missing_file_is_a_bad_request(tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match="no such file"):
        load_policy(tmp_path / "policy.yaml")


def test_a_file_that_is_not_utf8_is_a_bad_request(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_bytes(b"last_updated: \xff\xfe\n")
    with pytest.raises(BadRequest, match="not UTF-8"):
        load_policy(path)


def test_load_policy_reads_the_example() -> None:
    loaded = load_policy(EXAMPLE_FILE)
    assert loaded.filename == str(EXAMPLE_FILE)
    assert loaded.source == EXAMPLE
    assert loaded.line_of(("purposes", "support")) == line_at(EXAMPLE, "label: Answer you") - 1


def test_content_hash_ignores_comments_and_layout() -> None:
    reformatted = "# a new opening comment\n\n" + EXAMPLE.replace(
        "rights:\n", "rights:   # who may ask what\n"
    ).replace(
        "channels: [email, web_form, api]", "channels:\n    - email\n    - web_form\n    - api"
    ).replace(
        "{kind: dpf, valid_until: 2027-09-30}", "\n      kind: dpf\n      valid_until: 2027-09-30"
    )
    assert reformatted != EXAMPLE
    assert parse_policy(reformatted).content_hash == parse_policy(EXAMPLE).content_hash


def test_content_hash_ignores_the_order_of_keys() -> None:
    moved = edited("last_updated: 2026-11-01\n", "") + "last_updated: 2026-11-01\n"
    assert parse_policy(moved).content_hash == parse_policy(EXAMPLE).content_hash


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param("lifetime_days: 90", "lifetime_days: 91", id="number"),
        pytest.param("last_updated: 2026-11-01", "last_updated: 2026-11-02", id="date"),
        pytest.param("Keeps you signed in.", "Keeps you logged in.", id="text"),
    ],
)
def test_content_hash_changes_with_a_value(old: str, new: str) -> None:
    assert parse_policy(edited(old, new)).content_hash != parse_policy(EXAMPLE).content_hash
