"""Identify tokens and message tokens: what verifies, and everything that must not."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from troth.collect.identify import LIFETIME, MAX_TOKEN_CHARS, IdentifyTokens, Signer
from troth.comms.opens import MessageTokens, with_pixel
from troth.comms.templates import Rendered

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
PERSON = "0b6f5a4e-8d1c-4c3b-9a2e-7f6d5c4b3a21"
SITE = "lumeninsights.example"
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
MESSAGE = "3f2a9c1b7e6d45a8b0c1d2e3f4a5b6c7"


def tokens() -> IdentifyTokens:
    return IdentifyTokens(KEY)


def test_us1_a_fresh_token_names_its_person_on_its_site() -> None:
    issued = tokens().mint(PERSON, SITE, NOW)

    assert tokens().person_of(issued.token, SITE, NOW + dt.timedelta(minutes=9)) == PERSON
    assert issued.expires_at == NOW + LIFETIME


def test_us1_the_token_holds_only_the_opaque_public_id_and_is_url_safe() -> None:
    token = tokens().mint(PERSON, SITE, NOW).token

    prefix, person, expiry, mac = token.split(".")
    assert (prefix, person, expiry) == ("i1", PERSON, str(int((NOW + LIFETIME).timestamp())))
    assert SITE not in token
    assert all(c.isalnum() or c in "-_." for c in token)
    assert len(mac) == 43  # a whole SHA-256 MAC


def test_us1_a_token_for_another_site_is_ignored() -> None:
    token = tokens().mint(PERSON, SITE, NOW).token

    assert tokens().person_of(token, "elsewhere.example", NOW) is None


def test_us1_an_expired_token_is_ignored() -> None:
    token = tokens().mint(PERSON, SITE, NOW).token

    assert tokens().person_of(token, SITE, NOW + LIFETIME + dt.timedelta(seconds=1)) is None


def test_us1_a_token_under_another_key_is_ignored() -> None:
    token = IdentifyTokens(OTHER_KEY).mint(PERSON, SITE, NOW).token

    assert tokens().person_of(token, SITE, NOW) is None


def test_us1_changing_any_part_of_a_token_breaks_it() -> None:
    prefix, person, expiry, mac = tokens().mint(PERSON, SITE, NOW).token.split(".")
    other = "1" + person[1:]
    later = str(int(expiry) + 60)
    flipped = ("A" if mac[0] != "A" else "B") + mac[1:]
    for forged in (
        f"{prefix}.{other}.{expiry}.{mac}",
        f"{prefix}.{person}.{later}.{mac}",
        f"{prefix}.{person}.{expiry}.{flipped}",
        f"i2.{person}.{expiry}.{mac}",
    ):
        assert tokens().person_of(forged, SITE, NOW) is None, forged


def test_us1_a_genuine_mac_over_a_far_expiry_is_still_refused() -> None:
    far = str(int((NOW + dt.timedelta(days=30)).timestamp()))
    mac = Signer(KEY, b"troth identify token v1").sign(PERSON, SITE, far)

    assert tokens().person_of(f"i1.{PERSON}.{far}.{mac}", SITE, NOW) is None


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "i1",
        "i1...",
        "i1.not-a-uuid.1.x",
        f"i1.{PERSON.upper()}.1.x",
        "x" * (MAX_TOKEN_CHARS + 1),
        f"i1.{PERSON}.\u0661\u0662.x",  # digits, but not ASCII ones
        f"i1.{PERSON}.12.x.y",
    ],
)
def test_malformed_tokens_are_ignored_without_error(junk: str) -> None:
    assert tokens().person_of(junk, SITE, NOW) is None


def test_only_a_public_id_can_be_put_in_a_token() -> None:
    with pytest.raises(ValueError, match="public id"):
        tokens().mint("ada@example.org", SITE, NOW)


def test_co5_a_message_token_names_its_message_and_nothing_else() -> None:
    token = MessageTokens(KEY).token_for(MESSAGE)

    assert token.split(".")[:2] == ["m1", MESSAGE]
    assert MessageTokens(KEY).message_of(token) == MESSAGE


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: t.replace(MESSAGE, "0" * 32),
        lambda t: "m1." + MESSAGE,
        lambda t: "abc",
        lambda t: "",
        lambda t: t + "." + t,
    ],
)
def test_co5_forged_or_malformed_message_tokens_are_refused(make: Callable[[str], str]) -> None:
    token = make(MessageTokens(KEY).token_for(MESSAGE))

    assert MessageTokens(KEY).message_of(token) is None
    assert MessageTokens(OTHER_KEY).message_of(MessageTokens(KEY).token_for(MESSAGE)) is None


def test_co5_the_pixel_goes_at_the_end_of_the_html_body_escaped() -> None:
    rendered = Rendered(subject="s", text="t\n", html="<html><body><p>Hi</p></body></html>")

    tracked = with_pixel(rendered, "https://troth.example/p.gif?m=m1.a.b&x=1")

    assert tracked.html.startswith("<html><body><p>Hi</p><img ")
    assert 'src="https://troth.example/p.gif?m=m1.a.b&amp;x=1"' in tracked.html
    assert tracked.html.endswith("</body></html>")
    assert (tracked.text, tracked.subject) == ("t\n", "s")
    assert with_pixel(rendered, "") is rendered
