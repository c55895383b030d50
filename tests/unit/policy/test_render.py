"""The public policy text, rendered from the example declaration and from broken copies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from troth.policy.loader import parse_policy
from troth.policy.render import (
    escape,
    markdown_to_html,
    render_document,
    render_html,
    render_markdown,
)
from troth.policy.schema import Declaration

EXAMPLE = (Path(__file__).parents[3] / "src" / "troth" / "policy" / "example.yaml").read_text()
SECTIONS = [
    "Who we are",
    "What this policy covers",
    "What it does not cover",
    "What we collect",
    "What you give us",
    "What we record automatically",
    "What we receive from others",
    "Cookies and web beacons",
    "Your cookie choices",
    "How we use your information",
    "Where we keep it",
    "When we share it",
    "Companies that work with us",
    "Other times we may share it",
    "Statistics that do not identify you",
    "Services run by others",
    "How we protect it",
    "Children",
    "Your choices and rights",
    "Promotional email",
    "Asking by email",
    "How long we keep it",
    "Changes to this policy",
    "Contact us",
]


def declaration(*replacements: tuple[str, str]) -> Declaration:
    text = EXAMPLE
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return parse_policy(text).declaration


@pytest.fixture(scope="module")
def example() -> Declaration:
    return declaration()


@pytest.fixture(scope="module")
def text(example: Declaration) -> str:
    return render_markdown(example)


def section(text: str, heading: str) -> str:
    """The text under a heading, up to the next heading of the same or a higher level."""
    match = re.search(rf"^(#+) {re.escape(heading)}\n", text, re.M)
    assert match, heading
    level = len(match.group(1))
    rest = text[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.M)
    return rest[: end.start()] if end else rest


def test_pc1_last_updated_date_is_the_first_line(text: str) -> None:
    assert text.splitlines()[0] == "**Last Updated:** November 1, 2026"


def test_every_section_is_present_in_order(text: str) -> None:
    positions = [text.index(f" {heading}\n") for heading in SECTIONS]
    assert positions == sorted(positions)


def test_sc3_names_the_company_and_every_group_entity(text: str) -> None:
    who = section(text, "Who we are")
    assert "Lumen Insights, Inc." in who
    assert "**Lumen Insights SRL**, a subsidiary, in Romania" in who
    assert "**Lumen Labs Ltd**, an affiliated company, in the United Kingdom" in who


def test_sc1_covers_the_sites_and_their_subdomains(text: str) -> None:
    scope = section(text, "What this policy covers")
    assert "lumeninsights.example and all of its subdomains" in scope


def test_sc1_a_site_without_subdomains_is_named_alone() -> None:
    narrow = declaration(("include_subdomains: true", "include_subdomains: false"))
    scope = section(render_markdown(narrow), "What this policy covers")
    assert "lumeninsights.example" in scope
    assert "subdomains" not in scope


def test_sc2_processor_data_is_out_of_scope_with_the_terms_link(text: str) -> None:
    out = section(text, "What it does not cover")
    assert "does not apply" in out
    assert "Our customers use our analytics platform" in out
    assert "[terms of use](https://lumeninsights.example/terms)" in out


def test_co1_co3_categories_grouped_by_source_and_group(text: str) -> None:
    given = section(text, "What you give us")
    for label in ("Name", "Email address", "Postal address", "Phone number", "Fax number"):
        assert f"  - {label}: " in given
    assert "- **Contact**" in given
    assert "Card payment details" in given
    assert "only a reference" in given  # token_only
    automatic = section(text, "What we record automatically")
    for label in ("Operating system", "IP address", "Access times", "Browser type", "Language"):
        assert f"  - {label}: " in automatic
    assert "Previous site" in automatic
    assert "Name:" not in automatic
    assert "We shorten IP addresses" in automatic


def test_co4_product_usage_is_collected_automatically(text: str) -> None:
    assert "  - Product usage: Which features" in section(text, "What we record automatically")


def test_co2_data_sources_and_their_categories(text: str) -> None:
    others = section(text, "What we receive from others")
    assert "**Business directory data we license**: Company name, Demographics" in others
    assert "where it came from" in others


def test_co5_cookie_table_has_name_kind_purpose_and_lifetime(text: str) -> None:
    cookies = section(text, "Cookies and web beacons")
    row = "| troth\\_vid | Analytics | Understand your experience | 395 days (about 1 year) |"
    assert row in cookies
    assert "| troth\\_session | Necessary | Provide what you ask for | 1 day |" in cookies
    assert "**email\\_open**, in our emails" in cookies


def test_co6_how_to_refuse_cookies_and_what_degrades(text: str) -> None:
    choices = section(text, "Your cookie choices")
    assert "refuse cookies" in choices
    assert "delete the ones it has kept" in choices
    assert "troth\\_session: Keeps you signed in." in choices
    assert "[privacy preferences](/privacy/preferences)" in choices
    assert "Global Privacy Control" in choices


def test_us1_each_purpose_with_its_description_and_categories(
    text: str, example: Declaration
) -> None:
    uses = section(text, "How we use your information")
    for purpose in example.purposes.values():
        body = section(uses, purpose.label)
        assert purpose.description in body
        assert "Information used:" in body
    fraud = section(uses, "Prevent fraud and abuse")
    assert "Name, Email address, IP address, Access times, and Card payment details" in fraud


def test_us2_storage_regions_and_consent_to_transfer(text: str) -> None:
    where = section(text, "Where we keep it")
    assert "the United States and Germany" in where
    assert "you consent to it being transferred" in where


def test_sh1a_each_third_party_with_its_safeguard_in_words(text: str) -> None:
    parties = section(text, "Companies that work with us")
    expected = {
        "Postwise Mail": "EU-U.S. Data Privacy Framework, with a certification valid until "
        "September 30, 2027",
        "Tessera Payments": "European Union data protection law, as a company established "
        "in Ireland",
        "Helpline Desk": "based in Canada, which the European Commission recognizes",
        "Lumen Insights SRL": "written agreement with us, signed on March 1, 2024 and in force "
        "until March 1, 2029",
    }
    for name, words in expected.items():
        entry = parties[parties.index(f"**{name}**") :].split("\n\n")[0]
        assert words in entry, name
    assert "[Their privacy policy](https://postwise.example/privacy)" in parties


def test_sh1b_to_sh1e_enabled_exceptions_are_listed(text: str) -> None:
    other = section(text, "Other times we may share it")
    assert "**When the law requires it.**" in other
    assert "we will try to tell you" in other  # notify_subject
    assert "**To protect rights.**" in other
    assert "**In an emergency.**" in other
    assert "**In a business deal.**" in other


def test_sh1_nothing_goes_to_others_without_consent_but_for_the_cases_listed(text: str) -> None:
    sharing = section(text, "When we share it")
    assert "goes to no one outside Lumen unless you agree to it" in sharing


@pytest.mark.parametrize(
    ("exception", "words"),
    [
        pytest.param("protect_rights", "**To protect rights.**", id="sh1c"),
        pytest.param("emergency", "**In an emergency.**", id="sh1d"),
        pytest.param("business_transfer", "**In a business deal.**", id="sh1e"),
    ],
)
def test_sh1c_sh1d_sh1e_each_exception_is_stated_only_while_declared(
    text: str, exception: str, words: str
) -> None:
    assert words in section(text, "Other times we may share it")
    off = declaration((f"{exception}: {{enabled: true}}", f"{exception}: {{enabled: false}}"))
    assert words not in section(render_markdown(off), "Other times we may share it")


def test_sh1b_disabled_exceptions_and_notice_are_left_out() -> None:
    quiet = declaration(
        ("legal_request: {enabled: true, notify_subject: true}", "legal_request: {enabled: true}"),
        ("emergency: {enabled: true}", "emergency: {enabled: false}"),
    )
    other = section(render_markdown(quiet), "Other times we may share it")
    assert "**When the law requires it.**" in other
    assert "tell you" not in other
    assert "emergency" not in other


def test_sh2_aggregate_sharing_with_its_minimum_group_size(text: str) -> None:
    stats = section(text, "Statistics that do not identify you")
    assert "fewer than 10 people" in stats


def test_sh3_services_of_others_follow_their_own_policies(text: str) -> None:
    assert "their own privacy policies apply" in section(text, "Services run by others")


def test_se1_se2_security_measures_and_password_reuse(text: str) -> None:
    security = section(text, "How we protect it")
    assert "not lost, stolen or misused" in security
    assert "at least 15 characters" in security
    assert "use one that you use nowhere else" in security


def test_ch1_default_age_and_each_jurisdiction(text: str, example: Declaration) -> None:
    children = section(text, "Children")
    assert "If you are under 18" in children
    assert "consent of a parent or guardian" in children
    assert "| Thailand | 20 |" in children
    assert "| the United States (US-MS) | 21 |" in children
    assert "| Everywhere else | 18 |" in children
    assert children.count("| 19 |") == 10
    assert len(example.children.ages_of_majority) == 12


def test_cc1_unsubscribe_while_service_email_still_goes_out(text: str) -> None:
    promo = section(text, "Promotional email")
    assert "unsubscribe" in promo
    assert "still send you messages about the service" in promo
    assert "Invoice" in promo
    assert "Promotion" not in promo  # a promotional kind is not a service message


def test_cc2_requests_by_email_form_and_preferences(text: str) -> None:
    choices = section(text, "Your choices and rights")
    email = "[support@lumeninsights.example](mailto:support@lumeninsights.example)"
    assert f"- email {email}" in choices
    assert "[request form](/privacy/requests)" in choices
    assert "[privacy preferences](/privacy/preferences)" in choices
    assert "within 30 days" in choices
    assert "not to share it with third parties" in section(text, "Asking by email")


def test_retention_per_category(text: str) -> None:
    kept = section(text, "How long we keep it")
    assert "| IP address | 30 days |" in kept
    assert "| Card payment details | 2555 days (7 years) |" in kept


def test_pc1_pc2_changes_date_and_continued_use(text: str) -> None:
    changes = section(text, "Changes to this policy")
    assert '"Last Updated" date' in changes
    assert "[policy history](/privacy/history)" in changes
    assert "counts as accepting it" in changes


def test_effective_date_is_stated_when_it_differs() -> None:
    later = declaration(
        ("last_updated: 2026-11-01", "last_updated: 2026-11-01\neffective_date: 2026-12-01")
    )
    assert "takes effect on December 1, 2026" in render_markdown(later)


HOSTILE = "<script>alert(1)</script> [win](https://evil.example) ![x](https://evil.example/x.png)"


def test_declared_values_cannot_inject_html_or_markdown() -> None:
    hostile = declaration(
        ("short_name: Lumen", f"short_name: '{HOSTILE}'"),
        ("description: Your first and last name.", f"description: '# {HOSTILE} | cell |'"),
        ("name: Postwise Mail", f"name: '*{HOSTILE}*'"),
    )
    markdown = render_markdown(hostile)
    assert "[win](https://evil" not in markdown
    html = render_html(hostile)
    assert "<script" not in html
    assert "evil.example" not in "".join(re.findall(r'(?:href|src)="[^"]*"', html))
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; [win](https://evil.example)" in html


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("- item", "\\- item"),
        ("1. first", "1\\. first"),
        ("a\n\n# b", "a \\# b"),
        ("x | y", "x \\| y"),
        ("&lt;", "\\&lt;"),
    ],
)
def test_escape_keeps_values_literal(value: str, shown: str) -> None:
    assert escape(value) == shown
    html = markdown_to_html(escape(value))
    assert html.startswith("<p>")


def test_html_has_tables_and_linkable_sections(example: Declaration) -> None:
    html = render_html(example)
    assert html.startswith("<p><strong>Last Updated:</strong> November 1, 2026</p>")
    assert '<h2 id="your-choices-and-rights">' in html
    assert html.count("<table>") == 3


def test_document_is_self_contained(example: Declaration) -> None:
    document = render_document(example)
    assert document.startswith("<!doctype html>")
    assert "<style>" in document
    assert "<link" not in document
    assert "<script" not in document
