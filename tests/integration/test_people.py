"""Person records on SQLite and PostgreSQL: encrypted values (CO1), provenance (CO2), purpose
limits (US1), group recipients (SC3), blind-index search and payment tokens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pytest
from sqlalchemy import select

from tests.unit.people.support import ADMIN, MARKETING, SUPPORT, people_context, storage_holds
from troth.audit.models import AuditEntry
from troth.errors import Conflict, Forbidden, Unprocessable
from troth.people import service
from troth.people.context import PeopleContext
from troth.people.payment import Card
from troth.people.service import Origin
from troth.people.values import PersonView
from troth.runtime import Runtime

EMAIL = "ada.lovelace@analytical.example"
GIVEN: dict[str, object] = {
    "name": "Ada Lovelace",
    "email": EMAIL,
    "phone": "+44 20 7946 0958",
    "fax": "+44 20 7946 0959",
    "company": "Analytical Engines Ltd",
    "date_of_birth": "1985-12-10",
    "country": "GB",
    "region": "GB-LND",
    "postal_address": {
        "line1": "12 Marylebone Crescent",
        "city": "Westminsterham",
        "postal_code": "NW1 4QR",
        "country": "GB",
    },
}
PLAINTEXTS = [
    "Ada Lovelace",
    "ada.lovelace@analytical.example",
    "+442079460958",
    "442079460959",
    "Analytical Engines",
    "Head of Mathematics",
    "1985-12-10",
    "Marylebone Crescent",
    "Westminsterham",
    "NW1 4QR",
]
DEMOGRAPHICS = {
    "demographics.role": "Head of Mathematics",
    "demographics.company_size": "11-50",
}
"""Collected for another purpose than delivering the service (the example declares them for
combining and promotion only)."""
DIRECTORY = Origin("third_party:firmographics", "import:directory")


@pytest.fixture
def ctx(runtime: Runtime) -> PeopleContext:
    return people_context(runtime)


def create(runtime: Runtime, ctx: PeopleContext, values: Mapping[str, object] = GIVEN) -> str:
    with runtime.transaction() as session:
        view = service.create_person(
            session, ctx, ADMIN, values, purpose="deliver_services", origin=Origin(method="api")
        )
    return view.public_id


def read(runtime: Runtime, ctx: PeopleContext, public_id: str, purpose: str) -> PersonView:
    with runtime.transaction() as session:
        return service.get_person(session, ctx, ADMIN, public_id, purpose=purpose)


def test_co1_every_given_field_is_stored_encrypted_and_read_back(
    runtime: Runtime, ctx: PeopleContext
) -> None:
    public_id = create(runtime, ctx)
    with runtime.transaction() as session:
        service.update_person(
            session, ctx, ADMIN, public_id, DEMOGRAPHICS, purpose="combine_third_party"
        )
    for plaintext in PLAINTEXTS:
        assert storage_holds(runtime, plaintext) == [], plaintext
    delivered = read(runtime, ctx, public_id, "deliver_services")
    assert delivered.values["name"] == "Ada Lovelace"
    assert delivered.values["email"] == "ada.lovelace@analytical.example"
    assert delivered.values["phone"] == "+442079460958"
    assert delivered.values["fax"] == "+442079460959"
    assert delivered.values["company"] == "Analytical Engines Ltd"
    assert delivered.values["postal_address"] == {
        "line1": "12 Marylebone Crescent",
        "city": "Westminsterham",
        "postal_code": "NW1 4QR",
        "country": "GB",
    }
    assert delivered.values["country"] == "GB"
    assert delivered.jurisdiction == "GB-LND"
    assert delivered.values["date_of_birth"] == "1985-12-10"
    combined = read(runtime, ctx, public_id, "combine_third_party")
    assert combined.values["demographics.role"] == "Head of Mathematics"
    assert "date_of_birth" not in combined.values  # the age is for delivering the service


def test_co1_invalid_values_are_refused_before_anything_is_stored(
    runtime: Runtime, ctx: PeopleContext
) -> None:
    with pytest.raises(Unprocessable, match="email: not a valid email address"):
        create(runtime, ctx, {"name": "Bob", "email": "bob@"})
    with pytest.raises(Unprocessable, match="shoe_size: unknown field"):
        create(runtime, ctx, {"name": "Bob", "shoe_size": "44"})
    with runtime.transaction() as session:
        assert service.list_people(session, ctx, ADMIN).total == 0


def test_co2_provenance_is_recorded_per_value(runtime: Runtime, ctx: PeopleContext) -> None:
    public_id = create(runtime, ctx, {"name": "Ada Lovelace", "email": EMAIL})
    collected = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    with runtime.transaction() as session:
        service.update_person(
            session,
            ctx,
            ADMIN,
            public_id,
            {"company": "Engines Ltd"},
            purpose="combine_third_party",
            origin=Origin("third_party:firmographics", "import:directory", collected),
        )
    view = read(runtime, ctx, public_id, "combine_third_party")
    assert view.provenance["name"].source == "given"
    assert view.provenance["name"].method == "api"
    company = view.provenance["company"]
    assert (company.source, company.method, company.collected_at) == (
        "third_party:firmographics",
        "import:directory",
        collected,
    )


def test_co2_merge_rules_apply_on_update(runtime: Runtime, ctx: PeopleContext) -> None:
    public_id = create(runtime, ctx, {"name": "Ada Lovelace", "email": EMAIL})
    old = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    new = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)

    def directory(values: dict[str, object], at: dt.datetime) -> service.UpdateResult:
        with runtime.transaction() as session:
            return service.update_person(
                session,
                ctx,
                ADMIN,
                public_id,
                values,
                purpose="combine_third_party",
                origin=Origin(DIRECTORY.source, DIRECTORY.method, at),
            )

    kept = directory({"name": "A. Lovelace", "company": "Engines 2026"}, new)
    assert kept.changed == ["company"]
    assert "the person gave" in kept.kept["name"]
    older = directory({"company": "Engines 2025"}, old)
    assert older.changed == []
    assert older.kept == {"company": "the stored value is newer"}
    newer = directory({"company": "Engines 2027"}, new + dt.timedelta(days=1))
    assert newer.changed == ["company"]
    with runtime.transaction() as session:
        mine = service.update_person(
            session,
            ctx,
            ADMIN,
            public_id,
            {"company": "My Own Ltd"},
            purpose="deliver_services",
            origin=Origin(method="console"),
        )
    assert mine.changed == ["company"]
    view = read(runtime, ctx, public_id, "combine_third_party")
    assert view.values["name"] == "Ada Lovelace"
    assert view.values["company"] == "My Own Ltd"
    assert view.provenance["company"].source == "given"


def test_co2_undeclared_sources_and_categories_are_refused(
    runtime: Runtime, ctx: PeopleContext
) -> None:
    public_id = create(runtime, ctx, {"name": "Ada Lovelace"})
    with (
        pytest.raises(Unprocessable, match="'brokers' is not declared"),
        runtime.transaction() as s,
    ):
        service.update_person(
            s,
            ctx,
            ADMIN,
            public_id,
            {"company": "X"},
            purpose="combine_third_party",
            origin=Origin("third_party:brokers", "import:brokers"),
        )
    with (
        pytest.raises(Unprocessable, match="email: 'email' is not declared to come from"),
        runtime.transaction() as s,
    ):
        service.update_person(
            s,
            ctx,
            ADMIN,
            public_id,
            {"email": "x@example.com"},
            purpose="support",
            origin=DIRECTORY,
        )


def test_us1_a_purpose_gets_only_its_categories(runtime: Runtime, ctx: PeopleContext) -> None:
    public_id = create(runtime, ctx)
    with runtime.transaction() as session:
        view = service.get_person(session, ctx, SUPPORT, public_id, purpose="support")
    assert set(view.values) == {"name", "email", "phone", "company"}
    assert view.withheld == ["birth_date", "fax", "postal_address"]
    assert view.jurisdiction is None
    with runtime.transaction() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None
    assert (entry.action, entry.outcome, entry.subject_id) == ("person.read", "allowed", public_id)
    assert entry.categories == "company,email,name,phone"


def test_us1_a_role_outside_the_purpose_is_refused_and_audited(
    runtime: Runtime, ctx: PeopleContext
) -> None:
    public_id = create(runtime, ctx)
    with (
        pytest.raises(Forbidden, match="support may not act for purpose 'promotional_messages'"),
        runtime.transaction() as session,
    ):
        service.get_person(session, ctx, SUPPORT, public_id, purpose="promotional_messages")
    with runtime.transaction() as session:
        denied = session.scalars(select(AuditEntry).where(AuditEntry.outcome == "denied")).one()
    assert (denied.actor, denied.subject_id, denied.purpose) == (
        SUPPORT.id,
        public_id,
        "promotional_messages",
    )


def test_sc3_an_affiliate_sees_only_what_the_declaration_gives_it(
    runtime: Runtime, ctx: PeopleContext
) -> None:
    public_id = create(runtime, ctx)
    with runtime.transaction() as session:
        view = service.view_for_recipient(
            session, ctx, ADMIN, public_id, "lumen_srl", purpose="deliver_services"
        )
    assert set(view.values) == {"name", "email", "company"}
    assert view.withheld == ["birth_date", "fax", "phone", "postal_address"]
    with (
        pytest.raises(Forbidden, match="'lumen_labs' is not declared"),
        runtime.transaction() as session,
    ):
        service.view_for_recipient(
            session, ctx, ADMIN, public_id, "lumen_labs", purpose="deliver_services"
        )
    with (
        pytest.raises(Forbidden, match="not declared for purpose 'promotional_messages'"),
        runtime.transaction() as session,
    ):
        service.view_for_recipient(
            session, ctx, ADMIN, public_id, "lumen_srl", purpose="promotional_messages"
        )
    with runtime.transaction() as session:
        denials = session.scalars(
            select(AuditEntry.action).where(AuditEntry.outcome == "denied")
        ).all()
    assert sorted(denials) == ["person.view_for:lumen_labs", "person.view_for:lumen_srl"]


def test_co1_exact_search_by_email_and_phone_through_blind_indexes(
    runtime: Runtime, ctx: PeopleContext
) -> None:
    public_id = create(runtime, ctx)
    other = create(
        runtime, ctx, {"name": "Bob", "email": "bob@example.org", "phone": GIVEN["phone"]}
    )
    with runtime.transaction() as session:
        by_email = service.find_by_email(
            session, ctx, SUPPORT, "ADA.LOVELACE@analytical.example", purpose="support"
        )
        by_phone = service.find_by_phone(
            session, ctx, SUPPORT, "020 7946 0958", purpose="support", country="GB"
        )
        nobody = service.find_by_email(session, ctx, SUPPORT, "eve@example.org", purpose="support")
    assert [p.public_id for p in by_email] == [public_id]
    assert sorted(p.public_id for p in by_phone) == sorted([public_id, other])
    assert list(nobody) == []
    with pytest.raises(Forbidden), runtime.transaction() as session:
        service.find_by_email(session, ctx, MARKETING, EMAIL, purpose="support")


def test_co1_email_belongs_to_one_person(runtime: Runtime, ctx: PeopleContext) -> None:
    create(runtime, ctx)
    with pytest.raises(Conflict):
        create(runtime, ctx, {"name": "Someone", "email": "Ada.Lovelace@analytical.example"})


def test_co1_list_shows_names_only_under_a_purpose_that_allows_them(
    runtime: Runtime, ctx: PeopleContext
) -> None:
    create(runtime, ctx)
    with runtime.transaction() as session:
        bare = service.list_people(session, ctx, SUPPORT)
        named = service.list_people(session, ctx, SUPPORT, purpose="support")
        refused = service.list_people(session, ctx, SUPPORT, purpose="promotional_messages")
    assert bare.items[0].name is None
    assert not bare.names_shown
    assert named.items[0].name == "Ada Lovelace"
    assert named.names_shown
    assert refused.items[0].name is None


def test_co1_payment_methods_keep_a_token_never_a_card_number(
    runtime: Runtime, ctx: PeopleContext
) -> None:
    public_id = create(runtime, ctx)
    card = Card("card_processor", "tok_1QxYzAbCdEfGh", "Visa", "4242", 12, 2029)
    with runtime.transaction() as session:
        method = service.add_payment_method(
            session, ctx, ADMIN, public_id, card, purpose="deliver_services"
        )
        assert method.brand == "visa"
    assert storage_holds(runtime, "tok_1QxYzAbCdEfGh") == []
    view = read(runtime, ctx, public_id, "deliver_services")
    assert [(c.brand, c.last4, c.exp_month, c.exp_year) for c in view.payment_methods] == [
        ("visa", "4242", 12, 2029)
    ]
    assert "payment_card" in read(runtime, ctx, public_id, "support").withheld
    bad = [
        (Card("card_processor", "4539148803436467", "visa", "6467", 1, 2030), "token: that is"),
        (Card("stripe", "tok_abc123", "visa", "4242", 1, 2030), "processor: 'stripe'"),
        (Card("card_processor", "tok_abc123", "visa", "42", 13, 30), "last4"),
    ]
    for wrong, message in bad:
        with pytest.raises(Unprocessable, match=message), runtime.transaction() as session:
            service.add_payment_method(
                session, ctx, ADMIN, public_id, wrong, purpose="deliver_services"
            )
    with pytest.raises(Forbidden), runtime.transaction() as session:
        service.add_payment_method(session, ctx, ADMIN, public_id, card, purpose="support")
