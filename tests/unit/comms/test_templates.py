"""Email templates: the guardian consent message, escaping, and checked values."""

from __future__ import annotations

from pathlib import Path

import pytest

from troth.comms import templates
from troth.errors import Unprocessable
from troth.policy.loader import load_policy
from troth.policy.schema import Organization

EXAMPLE = Path(__file__).parents[3] / "src" / "troth" / "policy" / "example.yaml"
LINK = "https://lumeninsights.example/guardian/confirm?token=abc123&lang=en"
VALUES = {"verification_url": LINK, "expires_on": "15 November 2026"}


@pytest.fixture(scope="module")
def organization() -> Organization:
    return load_policy(EXAMPLE).declaration.organization


def test_ch1_guardian_consent_gives_link_deadline_and_business(
    organization: Organization,
) -> None:
    rendered = templates.render("guardian_consent", VALUES, organization)

    assert "Lumen" in rendered.subject
    assert LINK in rendered.text
    assert f'href="{LINK.replace("&", "&amp;")}"' in rendered.html
    for body in (rendered.text, rendered.html):
        assert "15 November 2026" in body
        assert "support@lumeninsights.example" in body
        assert "Lumen Insights, Inc." in body
        assert "If you do nothing" in body
    assert rendered.html.lstrip().startswith("<!doctype html>")
    assert "<" not in rendered.text


def test_html_escapes_values_and_text_keeps_them(organization: Organization) -> None:
    values = {**VALUES, "young_person_name": "<b>Sam</b> & co"}
    rendered = templates.render("guardian_consent", values, organization)

    assert "&lt;b&gt;Sam&lt;/b&gt; &amp; co" in rendered.html
    assert "<b>Sam</b>" not in rendered.html
    assert "<b>Sam</b> & co" in rendered.text


def test_subject_stays_on_one_line_whatever_the_values(organization: Organization) -> None:
    values = {**VALUES, "young_person_name": "Sam\r\nBcc: someone@example.org"}
    subject = templates.render("guardian_consent", values, organization).subject

    assert "\n" not in subject
    assert "\r" not in subject


@pytest.mark.parametrize(
    ("template", "values", "words"),
    [
        ("no_such_template", VALUES, "unknown email template"),
        ("guardian_consent", {"expires_on": "soon"}, "needs: verification_url"),
        ("guardian_consent", {**VALUES, "surprise": "x"}, "does not take: surprise"),
        ("guardian_consent", {**VALUES, "verification_url": "javascript:alert(1)"}, "http"),
        ("guardian_consent", {**VALUES, "expires_on": ["a"]}, "text or a number"),
        ("guardian_consent", {**VALUES, "expires_on": "x" * 3000}, "characters"),
    ],
)
def test_bad_template_or_values_are_refused_with_422(
    organization: Organization,
    template: str,
    values: dict[str, object],
    words: str,
) -> None:
    with pytest.raises(Unprocessable, match=words) as caught:
        templates.render(template, values, organization)
    assert caught.value.status_code == 422
