"""Reading a consent choice: malformed input gets a message that says what is wrong."""

from __future__ import annotations

import json

import pytest

from troth.consent.body import parse
from troth.consent.schemas import Method
from troth.errors import BadRequest

GOOD = {
    "site": "lumeninsights.example",
    "visitor_key": "0123456789abcdef0123456789abcdef",
    "choice": {"analytics": True, "marketing": False},
    "method": "banner_choose",
    "banner_version": "0123456789abcdef",
}


def _raw(**changes: object) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


def test_a_well_formed_choice_parses() -> None:
    choice = parse(_raw())
    assert choice.method is Method.banner_choose
    assert choice.choice.analytics is True


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b"\xff\xfe", "not valid JSON"),
        (_raw(method="nodded"), "method"),
        (_raw(visitor_key="203.0.113.7"), "visitor_key"),
        (_raw(banner_version="x"), "banner_version"),
        (_raw(choice={"analytics": "maybe"}), "choice.analytics"),
        (_raw(choice={"analytics": True, "tracking": True}), "choice.tracking"),
        (_raw(ip="203.0.113.7"), "ip"),
    ],
)
def test_malformed_choices_are_refused_with_a_reason(raw: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as refused:
        parse(raw)
    assert message in refused.value.message
