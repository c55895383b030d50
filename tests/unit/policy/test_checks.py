"""`troth policy check`: each rule, on a copy of the example broken in one way."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from troth.errors import TrothError
from troth.policy.checks import find_problems
from troth.policy.loader import Path_, Problem, parse_policy

EXAMPLE_FILE = Path(__file__).parents[3] / "src" / "troth" / "policy" / "example.yaml"
EXAMPLE = EXAMPLE_FILE.read_text(encoding="utf-8")
TODAY = dt.date(2026, 11, 1)


@dataclass(frozen=True)
class Break:
    old: str
    """Text of the example, found exactly once, replaced by `new`."""
    new: str
    path: Path_
    at: str
    """Text found exactly once in the broken file, on the line the problem must name."""
    says: str
    below: int = 0
    """How many lines below `at` the problem's line is, where `at` cannot be unique."""


def edited(old: str, new: str) -> str:
    assert EXAMPLE.count(old) == 1, f"{old!r} must occur once in the example"
    return EXAMPLE.replace(old, new)


def line_at(source: str, text: str) -> int:
    assert source.count(text) == 1, f"{text!r} must occur once in the broken file"
    return source[: source.index(text)].count("\n") + 1


def problems_of(source: str, today: dt.date = TODAY) -> list[Problem]:
    return find_problems(parse_policy(source), today)


def assert_breaks(case: Break, today: dt.date = TODAY) -> None:
    source = edited(case.old, case.new)
    problems = problems_of(source, today)
    assert [p.path for p in problems] == [case.path], problems
    assert case.says in problems[0].message
    assert problems[0].line == line_at(source, case.at) + case.below


def test_example_has_no_problems() -> None:
    assert problems_of(EXAMPLE) == []


def test_problem_names_its_line_in_the_file() -> None:
    source = edited("phone, fax, company, payment_card", "phone, faxx, company, payment_card")
    [problem] = problems_of(source)
    line = line_at(source, "faxx")
    assert problem.render("policy.yaml") == (
        f"policy.yaml:{line}: purposes.deliver_services.categories.4: "
        "category 'faxx' is not declared under categories (did you mean 'fax'?)"
    )


def test_problems_are_ordered_by_line() -> None:
    source = EXAMPLE.replace("KR: 19", "KR: 17").replace(
        "roles: [admin, analyst]\n", "roles: [x]\n"
    )
    source = source.replace("lifetime_days: 395", "lifetime_days: 500")
    lines = [p.line for p in problems_of(source)]
    assert lines == [
        line_at(source, text) for text in ("roles: [x]", "lifetime_days: 500", "KR: 17")
    ]


US1 = [
    pytest.param(
        Break(
            "phone, fax, company, payment_card",
            "phone, faxx, company, payment_card",
            ("purposes", "deliver_services", "categories", 4),
            "faxx",
            "category 'faxx' is not declared under categories",
        ),
        id="purpose-category",
    ),
    pytest.param(
        Break(
            "roles: [admin, analyst]\n",
            "roles: [admin, analysts]\n",
            ("purposes", "improve_services", "roles", 1),
            "analysts",
            "role 'analysts' is not declared under roles",
        ),
        id="purpose-role",
    ),
    pytest.param(
        Break(
            "    sources: [given]\n    retention_days: 1825\n  company:",
            "    sources: [given]\n  company:",
            ("categories", "fax"),
            "  fax:",
            "no retention_days",
        ),
        id="retention",
    ),
    pytest.param(
        Break(
            "invoice: {label: Invoice, promotional: false, purpose: service_messages}",
            "invoice: {label: Invoice, promotional: false, purpose: billing}",
            ("message_kinds", "invoice", "purpose"),
            "invoice:",
            "purpose 'billing' is not declared under purposes",
        ),
        id="message-purpose",
    ),
    pytest.param(
        Break(
            "support: {label: Support message, promotional: false, purpose: support}",
            "support: {label: Support message, promotional: false, purpose: combine_third_party}",
            ("message_kinds", "support", "purpose"),
            "label: Support message",
            "purpose 'combine_third_party' may not use 'email'",
        ),
        id="message-email",
    ),
]


@pytest.mark.parametrize("case", US1)
def test_us1_purposes_agree_with_declarations(case: Break) -> None:
    assert_breaks(case)


CO2 = [
    pytest.param(
        Break(
            "categories: [company, demographics, postal_address, phone, name]",
            "categories: [company, demographics, postal_address, phone, name, revenue]",
            ("data_sources", "firmographics", "categories", 5),
            "revenue",
            "category 'revenue' is not declared under categories",
        ),
        id="undeclared",
    ),
    pytest.param(
        Break(
            "categories: [company, demographics, postal_address, phone, name]",
            "categories: [company, demographics, postal_address, phone, name, email]",
            ("data_sources", "firmographics", "categories", 5),
            "phone, name, email",
            "category 'email' does not list third_party in its sources",
        ),
        id="source-lacks-third-party",
    ),
    pytest.param(
        Break(
            "categories: [company, demographics, postal_address, phone, name]",
            "categories: [company, demographics, postal_address, phone]",
            ("categories", "name", "sources", 1),
            "description: Your first and last name.",
            "no data source supplies this category",
            below=1,
        ),
        id="unsupplied-third-party",
    ),
]


@pytest.mark.parametrize("case", CO2)
def test_co2_data_sources_agree_with_categories(case: Break) -> None:
    assert_breaks(case)


CO3 = [
    pytest.param(
        Break(
            "  ip: truncate",
            "  ip: encrypt",
            ("collection", "ip"),
            "ip: encrypt",
            "name the purpose they serve in ip_purpose",
        ),
        id="no-purpose",
    ),
    pytest.param(
        Break(
            "  ip: truncate",
            "  ip: encrypt\n  ip_purpose: frauds",
            ("collection", "ip_purpose"),
            "ip_purpose",
            "purpose 'frauds' is not declared under purposes",
        ),
        id="undeclared-purpose",
    ),
    pytest.param(
        Break(
            "  ip: truncate",
            "  ip: encrypt\n  ip_purpose: deliver_services",
            ("collection", "ip_purpose"),
            "ip_purpose",
            "purpose 'deliver_services' may not use 'ip'",
        ),
        id="purpose-without-ip",
    ),
]


@pytest.mark.parametrize("case", CO3)
def test_co3_kept_ip_addresses_serve_a_purpose(case: Break) -> None:
    assert_breaks(case)


def test_co3_encrypted_ip_for_a_purpose_that_uses_it_is_fine() -> None:
    assert (
        problems_of(edited("  ip: truncate", "  ip: encrypt\n  ip_purpose: fraud_prevention")) == []
    )


CO5 = [
    pytest.param(
        Break(
            "    purpose: promotional_messages\n    lifetime_days: 90",
            "    purpose: promo_messages\n    lifetime_days: 90",
            ("cookies", 3, "purpose"),
            "promo_messages",
            "purpose 'promo_messages' is not declared under purposes",
        ),
        id="cookie-purpose",
    ),
    pytest.param(
        Break(
            "purpose: understand_experience\n    description: Counts",
            "purpose: understand\n    description: Counts",
            ("beacons", 0, "purpose"),
            "purpose: understand\n",
            "purpose 'understand' is not declared under purposes",
        ),
        id="beacon-purpose",
    ),
    pytest.param(
        Break(
            "lifetime_days: 395",
            "lifetime_days: 396",
            ("cookies", 2, "lifetime_days"),
            "396",
            "analytics cookie 'troth_vid' lives 396 days",
        ),
        id="analytics-lifetime",
    ),
    pytest.param(
        Break(
            "lifetime_days: 90",
            "lifetime_days: 400",
            ("cookies", 3, "lifetime_days"),
            "400",
            "marketing cookie 'troth_campaign' lives 400 days",
        ),
        id="marketing-lifetime",
    ),
    pytest.param(
        Break(
            "    purpose: deliver_services\n    lifetime_days: 365",
            "    purpose: improve_services\n    lifetime_days: 365",
            ("cookies", 0, "category"),
            "category: necessary\n    purpose: improve",
            "its purpose 'improve_services' is not essential",
        ),
        id="necessary-not-essential",
    ),
    pytest.param(
        Break(
            "name: troth_campaign",
            "name: troth_vid",
            ("cookies", 3, "name"),
            "name: troth_vid\n    category: marketing",
            "'troth_vid' is already listed as cookies.2",
        ),
        id="duplicate-cookie",
    ),
]


@pytest.mark.parametrize("case", CO5)
def test_co5_cookies_and_beacons_agree_with_purposes(case: Break) -> None:
    assert_breaks(case)


def test_co5_necessary_cookies_may_live_longer_than_thirteen_months() -> None:
    assert problems_of(edited("lifetime_days: 365", "lifetime_days: 800")) == []


SH1A = [
    pytest.param(
        Break(
            "    safeguard: {kind: adequacy, country: CA}\n",
            "",
            ("third_parties", 2, "safeguard"),
            "- id: support_desk",
            "'support_desk' has no safeguard",
        ),
        id="missing",
    ),
    pytest.param(
        Break(
            "{kind: dpf, valid_until: 2027-09-30}",
            "{kind: dpf}",
            ("third_parties", 0, "safeguard"),
            "{kind: dpf}",
            "a dpf safeguard needs valid_until",
        ),
        id="dpf-without-date",
    ),
    pytest.param(
        Break(
            "{kind: eu_law, country: IE}",
            "{kind: eu_law}",
            ("third_parties", 1, "safeguard"),
            "{kind: eu_law}",
            "an eu_law safeguard needs the recipient's country",
        ),
        id="eu-law-without-country",
    ),
    pytest.param(
        Break(
            "{kind: adequacy, country: CA}",
            "{kind: adequacy}",
            ("third_parties", 2, "safeguard"),
            "{kind: adequacy}",
            "an adequacy safeguard needs the recipient's country",
        ),
        id="adequacy-without-country",
    ),
    pytest.param(
        Break(
            "signed: 2024-03-01, ",
            "",
            ("third_parties", 3, "safeguard"),
            "kind: written_agreement",
            "needs the date it was signed",
        ),
        id="agreement-unsigned",
    ),
    pytest.param(
        Break(
            "expires: 2029-03-01",
            "expires: 2026-10-31",
            ("third_parties", 3, "safeguard", "expires"),
            "kind: written_agreement",
            "the written agreement expired on 2026-10-31",
        ),
        id="agreement-expired",
    ),
    pytest.param(
        Break(
            "purposes: [service_messages, promotional_messages, support]",
            "purposes: [service_messages, promotional_messages, support, billing]",
            ("third_parties", 0, "purposes", 3),
            "support, billing",
            "purpose 'billing' is not declared under purposes",
        ),
        id="undeclared-purpose",
    ),
    pytest.param(
        Break(
            "categories: [name, email, payment_card, postal_address]",
            "categories: [name, email, payment_card, postal_address, iban]",
            ("third_parties", 1, "categories", 4),
            "iban",
            "category 'iban' is not declared under categories",
        ),
        id="undeclared-category",
    ),
    pytest.param(
        Break(
            "categories: [name, email, phone, company]\n    country: CA",
            "categories: [name, email, phone, company, fax]\n    country: CA",
            ("third_parties", 2, "categories", 4),
            "company, fax]",
            "none of its purposes ('support') may use 'fax'",
        ),
        id="category-no-purpose-uses",
    ),
    pytest.param(
        Break(
            "id: support_desk",
            "id: mail_relay",
            ("third_parties", 2, "id"),
            "name: Helpline Desk",
            "'mail_relay' is already listed as third_parties.0",
            below=-1,
        ),
        id="duplicate-id",
    ),
]


@pytest.mark.parametrize("case", SH1A)
def test_sh1a_third_parties_have_valid_safeguards(case: Break) -> None:
    assert_breaks(case)


def test_sh1a_dpf_certification_lapsed_before_today() -> None:
    case = Break(
        "kind: dpf",
        "kind: dpf",
        ("third_parties", 0, "safeguard", "valid_until"),
        "kind: dpf",
        "certification lapsed on 2027-09-30",
    )
    assert_breaks(case, today=dt.date(2027, 10, 1))
    assert problems_of(EXAMPLE, today=dt.date(2027, 9, 30)) == []


def test_sc3_affiliates_belong_to_the_group() -> None:
    assert_breaks(
        Break(
            "name: Lumen Insights SRL\n    role: affiliate",
            "name: Lumen Insights GmbH\n    role: affiliate",
            ("third_parties", 3, "name"),
            "Lumen Insights GmbH",
            "affiliate 'Lumen Insights GmbH' is not one of organization.group",
        )
    )


def test_sc3_processors_need_not_belong_to_the_group() -> None:
    assert problems_of(edited("name: Helpline Desk", "name: Someone Else")) == []


SITES = "sites:\n  - domain: lumeninsights.example\n    include_subdomains: true\n"


def test_sc1_a_site_listed_twice() -> None:
    assert_breaks(
        Break(
            SITES,
            SITES + "  - domain: lumeninsights.example\n    include_subdomains: false\n",
            ("sites", 1, "domain"),
            "include_subdomains: false",
            "'lumeninsights.example' is already listed as sites.0",
            below=-1,
        )
    )


def test_sc1_a_subdomain_already_covered() -> None:
    assert_breaks(
        Break(
            SITES,
            SITES + "  - domain: app.lumeninsights.example\n",
            ("sites", 1, "domain"),
            "app.lumeninsights.example",
            "already covered by 'lumeninsights.example'",
        )
    )


def test_sc1_a_subdomain_of_a_site_without_subdomains_is_fine() -> None:
    source = edited(
        SITES,
        "sites:\n  - domain: lumeninsights.example\n    include_subdomains: false\n"
        "  - domain: app.lumeninsights.example\n",
    )
    assert problems_of(source) == []


ORG_TERMS = "  terms_url: https://lumeninsights.example/terms\n\nsites:"
SCOPE_TERMS = "  terms_url: https://lumeninsights.example/terms\n\ncategories:"


def test_sc2_processor_data_points_to_the_terms_that_govern_it() -> None:
    source = edited(ORG_TERMS, "\nsites:").replace(SCOPE_TERMS, "\ncategories:")
    [problem] = problems_of(source)
    assert problem.path == ("out_of_scope", "processor_data")
    assert "give their address in out_of_scope.terms_url" in problem.message
    assert problem.line == line_at(source, "processor_data:")


def test_sc2_the_organization_terms_are_enough() -> None:
    assert problems_of(edited(SCOPE_TERMS, "\ncategories:")) == []


CC1 = [
    pytest.param(
        Break(
            "promotion: {label: Promotion, promotional: true,",
            "promotion: {label: Promotion, promotional: false,",
            ("message_kinds", "promotion", "promotional"),
            "label: Promotion,",
            "not promotional, but purpose 'promotional_messages' is promotional",
        ),
        id="kind-not-promotional",
    ),
    pytest.param(
        Break(
            "invoice: {label: Invoice, promotional: false,",
            "invoice: {label: Invoice, promotional: true,",
            ("message_kinds", "invoice", "promotional"),
            "label: Invoice,",
            "a promotional kind, but purpose 'service_messages' is not promotional",
        ),
        id="kind-promotional",
    ),
    pytest.param(
        Break(
            "    promotional: true\n    opt_out: true\n",
            "    promotional: true\n",
            ("purposes", "promotional_messages", "opt_out"),
            "  promotional_messages:\n    label",
            "a promotional purpose needs opt_out: true",
        ),
        id="no-opt-out",
    ),
    pytest.param(
        Break(
            "    basis: consent\n    categories: [name, email, company, demographics]",
            "    basis: legitimate_interest\n    categories: [name, email, company, demographics]",
            ("purposes", "promotional_messages", "basis"),
            "basis: legitimate_interest\n    categories: [name, email, company,",
            "a promotional purpose rests on consent, not legitimate_interest",
        ),
        id="basis-not-consent",
    ),
    pytest.param(
        Break(
            "opt_out_sharing,\n            opt_out_promotional]",
            "opt_out_sharing]",
            ("rights", "offered"),
            "offered:",
            "offer opt_out_promotional",
        ),
        id="right-not-offered",
    ),
]


@pytest.mark.parametrize("case", CC1)
def test_cc1_people_can_refuse_promotional_messages(case: Break) -> None:
    assert_breaks(case)


def test_cc2_requests_can_be_sent_by_email() -> None:
    assert_breaks(
        Break(
            "channels: [email, web_form, api]",
            "channels: [web_form, api]",
            ("rights", "channels"),
            "channels:",
            "add email",
        )
    )


def test_ch1_an_age_of_majority_below_the_default_is_flagged() -> None:
    assert_breaks(
        Break(
            "KR: 19",
            "KR: 17",
            ("children", "ages_of_majority", "KR"),
            "KR: 17",
            "17 is below the default age of 18",
        )
    )


def test_pc1_effective_date_not_before_last_updated() -> None:
    assert_breaks(
        Break(
            "last_updated: 2026-11-01\n",
            "last_updated: 2026-11-01\neffective_date: 2026-10-01\n",
            ("effective_date",),
            "effective_date",
            "2026-10-01 is before last_updated (2026-11-01)",
        )
    )
    later = edited(
        "last_updated: 2026-11-01\n", "last_updated: 2026-11-01\neffective_date: 2026-12-01\n"
    )
    assert problems_of(later) == []


# The command line. It checks against the real date, so the example's certification
# date is moved far ahead: these tests must not start failing on the day it lapses.
CURRENT_EXAMPLE = edited("valid_until: 2027-09-30", "valid_until: 2999-12-31")
TROTH = Path(sys.executable).parent / "troth"


@pytest.fixture
def cli() -> typer.Typer:
    from troth.cli import app

    return app


def write(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(source, encoding="utf-8")
    return path


def check(app: typer.Typer, path: Path) -> Result:
    return CliRunner().invoke(app, ["policy", "check", "--file", str(path)])


def test_cli_check_passes_on_the_example(cli: typer.Typer, tmp_path: Path) -> None:
    path = write(tmp_path, CURRENT_EXAMPLE)
    result = check(cli, path)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{path}: the declaration is consistent\n"


def test_cli_check_reports_one_line_per_problem(cli: typer.Typer, tmp_path: Path) -> None:
    source = CURRENT_EXAMPLE.replace("KR: 19", "KR: 17").replace(
        "channels: [email, web_form, api]", "channels: [web_form, api]"
    )
    path = write(tmp_path, source)
    result = check(cli, path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}:{line_at(source, 'KR: 17')}: children.ages_of_majority.KR: "
        "17 is below the default age of 18, which applies anyway as the higher one; "
        "remove this entry",
        f"{path}:{line_at(source, 'channels:')}: rights.channels: "
        "add email: people must be able to send requests to the support address",
    ]


@pytest.mark.parametrize(
    ("source", "says"),
    [
        pytest.param(None, "no such file", id="missing"),
        pytest.param("sites: [unclosed\n", "not valid YAML", id="invalid-yaml"),
    ],
)
def test_cli_check_fails_in_one_line(
    cli: typer.Typer, tmp_path: Path, source: str | None, says: str
) -> None:
    path = tmp_path / "policy.yaml" if source is None else write(tmp_path, source)
    result = check(cli, path)
    assert result.exit_code != 0
    assert isinstance(result.exception, TrothError)
    assert len(result.exception.message.splitlines()) == 1
    assert says in result.exception.message


@pytest.mark.skipif(not TROTH.exists(), reason="the troth script is not installed")
@pytest.mark.parametrize(
    ("source", "says"),
    [
        pytest.param(None, "no such file", id="missing"),
        pytest.param("sites: [unclosed\n", "not valid YAML", id="invalid-yaml"),
    ],
)
def test_cli_script_exits_with_one_clear_line(
    tmp_path: Path, source: str | None, says: str
) -> None:
    path = tmp_path / "policy.yaml" if source is None else write(tmp_path, source)
    done = subprocess.run(
        [str(TROTH), "policy", "check", "--file", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("error: ")
    assert says in line
    assert "Traceback" not in done.stderr
