from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from troth.audit.personal import luhn_valid
from troth.collect.event import Event
from troth.collect.scrub import (
    MAX_PROPS,
    PATH_LIMIT,
    PROP_VALUE_LIMIT,
    TEXT_FIELDS,
    TITLE_LIMIT,
    has_seven_digits,
    scrub_event,
    scrub_field,
    scrub_props,
    scrub_text,
)

EMAIL = "jane.doe+news@example.org"
CARD = "4111 1111 1111 1111"  # Luhn-valid test card
CARD_PLAIN = "5500005555555559"
ORDER_ID = "4111111111111112"  # 16 digits, Luhn-invalid
PHONE = "+44 20 7946 0958"
TOKEN = "s3cr3tT0kenValue"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"


@pytest.mark.parametrize(
    "text",
    [
        f"/account/{EMAIL}",
        f"/u?email={EMAIL.replace('@', '%40')}",
        f"Welcome back {EMAIL}",
        f"paid with {CARD} today",
        f"card-{CARD_PLAIN}",
        f"card {CARD.replace(' ', '-')}",
        f"call us at {PHONE}",
        f"/reset?token={TOKEN}",
        f"/cb?code={TOKEN}&state=1",
        f"/login?access_token={TOKEN}#x",
        f"/x?Session-ID={TOKEN}",
        f"/x?api_key={TOKEN}",
        f"/x?password={TOKEN}",
        f"Authorization header was {JWT}",
    ],
)
def test_personal_values_and_secrets_never_survive(text: str) -> None:
    out = scrub_text(text, "GB")
    for secret in (EMAIL, "%40example.org", CARD, CARD_PLAIN, "1111", PHONE, "7946", TOKEN, JWT):
        assert secret not in out
    assert "[" in out


def test_marks_name_what_was_removed() -> None:
    assert scrub_text(f"{EMAIL} {CARD} {PHONE}", "GB") == "[email] [card] [phone]"
    assert scrub_text(f"/r?token={TOKEN}&page=2") == "/r?token=[secret]&page=2"
    assert scrub_text(JWT) == "[secret]"


def test_luhn_invalid_order_id_is_kept() -> None:
    for region in ("US", "GB", "DE", "ZZ"):
        assert scrub_text(f"/orders/{ORDER_ID}", region) == f"/orders/{ORDER_ID}"


def test_phone_numbers_in_national_format_use_the_region() -> None:
    assert scrub_text("call (415) 555-2671", "US") == "call [phone]"
    assert scrub_text("ruf 030 1234567 an", "DE") == "ruf [phone] an"


@pytest.mark.parametrize(
    "text",
    [
        "/blog/2026/05/04/hello-world",
        "/search?author=jane&page=2",
        "/product/12345678",
        "Released 2024-11-25 12:30:45",
        "/a?keyword=shoes",
    ],
)
def test_ordinary_text_is_untouched(text: str) -> None:
    assert scrub_text(text, "US") == text


def test_props_keys_values_and_secret_names_are_scrubbed() -> None:
    props = scrub_props(
        {
            "contact": EMAIL,
            EMAIL: "as a key",
            "api_key": "plain-looking",
            "sessionId": 1234,
            "pan": int(CARD_PLAIN),
            "order": int(ORDER_ID),
            "url": f"https://x.example/cb?token={TOKEN}",
            "plan": "pro",
            "seats": 5,
            "trial": True,
        },
        "GB",
    )
    assert props == {
        "contact": "[email]",
        "[email]": "as a key",
        "api_key": "[secret]",
        "sessionId": "[secret]",
        "pan": "[card]",
        "order": int(ORDER_ID),
        "url": "https://x.example/cb?token=[secret]",
        "plan": "pro",
        "seats": 5,
        "trial": True,
    }


def test_lengths_and_prop_count_are_capped() -> None:
    assert len(scrub_field("/" + "a" * 5000, PATH_LIMIT)) == PATH_LIMIT
    many = {f"k{i}": "v" * 900 for i in range(50)}
    props = scrub_props(many)
    assert len(props) == MAX_PROPS
    assert all(len(str(v)) == PROP_VALUE_LIMIT for v in props.values())


def test_an_email_cut_by_the_length_bound_leaves_no_fragment() -> None:
    text = "x " * (2 * TITLE_LIMIT - 5) + EMAIL * 3
    assert "jane" not in scrub_field(text, TITLE_LIMIT)
    long_text = ("y" * 40 + " ") * 100 + EMAIL
    assert "@" not in scrub_field(long_text, 100)


def test_scrub_event_covers_every_free_text_field() -> None:
    event = Event(
        site="lumeninsights.example",
        ts=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        kind="event",
        path=f"/u/{EMAIL}",
        visitor_key="0" * 32,
        cookieless=True,
        name=f"signup {EMAIL}",
        title=f"Order for {PHONE}",
        referrer_host="mail.example",
        referrer_path=f"/r/{CARD_PLAIN}",
        utm_source=EMAIL,
        utm_campaign=f"auth_token={TOKEN}",
        props={"token": TOKEN},
    )
    scrub_event(event, "GB")
    stored = repr(event)
    for secret in (EMAIL, PHONE, CARD_PLAIN, TOKEN):
        assert secret not in stored


def _event(**fields: str) -> Event:
    return Event(
        site="lumeninsights.example",
        ts=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        kind="pageview",
        visitor_key="0" * 32,
        cookieless=True,
        **{"path": "/", **fields},
    )


@pytest.mark.parametrize(("field", "limit"), TEXT_FIELDS)
def test_scrub_event_finds_a_value_in_any_one_field(field: str, limit: int) -> None:
    for text in (f"x {EMAIL}", f"/r/{CARD_PLAIN}", f"call {PHONE}", f"a=1&token={TOKEN}", JWT):
        event = _event(**{field: text})
        scrub_event(event, "GB")
        stored = repr(event)
        for secret in (EMAIL, CARD_PLAIN, "7946", TOKEN, JWT):
            assert secret not in stored, (field, text)


@pytest.mark.parametrize(("field", "limit"), TEXT_FIELDS)
def test_scrub_event_caps_any_one_field(field: str, limit: int) -> None:
    event = _event(**{field: "a" * (limit + 50)})
    scrub_event(event, "GB")
    assert getattr(event, field) == "a" * limit


def test_scrub_event_leaves_ordinary_fields_as_they_are() -> None:
    fields = {
        "path": "/blog/2026/05/launch-notes",
        "title": "Launch notes, May 2026 - Lumen Insights",
        "referrer_host": "news.example",
        "referrer_path": "/2026/05/12/best-tools",
        "utm_source": "newsletter",
        "utm_campaign": "q2-webinar",
    }
    event = _event(**fields)
    scrub_event(event, "GB")
    assert {name: getattr(event, name) for name in fields} == fields


def test_a_phone_number_is_scrubbed_every_time_not_only_the_first() -> None:
    text = "reach me on +49 30 1234567"
    assert scrub_text(text, "DE") == scrub_text(text, "DE") == "reach me on [phone]"


def _with_luhn_digit(body: str) -> str:
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable")


@given(
    body=st.text(alphabet="0123456789", min_size=12, max_size=18).filter(lambda s: s[0] != "0"),
    sep=st.sampled_from(["", " ", "-"]),
    before=st.text(alphabet="abc /?=", max_size=10),
    after=st.text(alphabet="abc /?=", max_size=10),
)
def test_any_luhn_valid_card_number_is_removed(
    body: str, sep: str, before: str, after: str
) -> None:
    number = _with_luhn_digit(body)
    grouped = sep.join(number[i : i + 4] for i in range(0, len(number), 4))
    out = scrub_text(f"{before} {grouped} {after}", "ZZ")
    assert number not in out.replace(" ", "").replace("-", "")


@given(
    local=st.from_regex(r"[a-z][a-z0-9._+-]{0,15}", fullmatch=True),
    domain=st.from_regex(r"[a-z][a-z0-9-]{0,10}\.(com|org|de|example)", fullmatch=True),
    encoded=st.booleans(),
)
def test_any_email_is_removed(local: str, domain: str, encoded: bool) -> None:
    address = f"{local}{'%40' if encoded else '@'}{domain}"
    out = scrub_text(f"/p?to={address}&x=1", "ZZ")
    assert address not in out
    assert domain not in out


@given(
    st.text(alphabet=st.sampled_from("0123456789 -/.a٣７")),
    st.text(alphabet=st.characters(codec="ascii")),
)
def test_seven_digits_agree_with_a_regular_expression(mixed: str, ascii_text: str) -> None:
    """The byte count on ASCII text agrees with what a regular expression calls a digit, and
    so does other text (Arabic-Indic or full-width digits are digits too)."""
    for text in (mixed, ascii_text, ascii_text + mixed):
        assert has_seven_digits(text) is (len(re.findall(r"\d", text)) >= 7)


def test_seven_digits_anywhere_in_ascii_and_other_text() -> None:
    assert has_seven_digits("/order/12-34-567")
    assert not has_seven_digits("/order/12-34-56")
    assert has_seven_digits("٠١٢٣٤٥٦")  # Arabic-Indic digits
    assert not has_seven_digits("page ٠١٢ 345")
