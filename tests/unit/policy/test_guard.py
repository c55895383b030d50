"""The policy guard answers from the declaration: purposes, roles, categories, choices."""

from __future__ import annotations

import pytest

from tests.conftest import EXAMPLE_POLICY
from troth.errors import Forbidden
from troth.policy.guard import Actor, ActorKind, Guard, Subject
from troth.policy.loader import parse_policy
from troth.policy.schema import Action


@pytest.fixture(scope="module")
def guard() -> Guard:
    return Guard(parse_policy(EXAMPLE_POLICY.read_text()).declaration)


def user(*roles: str) -> Actor:
    return Actor(id="user:1", roles=frozenset(roles))


def test_us1_declared_purpose_role_and_categories_are_allowed(guard: Guard) -> None:
    decision = guard.check(user("support"), "support", ["email", "name"])
    assert decision.allowed
    assert "support" in decision.reason


def test_us1_undeclared_purpose_is_denied(guard: Guard) -> None:
    decision = guard.check(user("admin"), "resell_lists", ["email"])
    assert not decision.allowed
    assert decision.reason == "purpose 'resell_lists' is not declared"


def test_us1_category_outside_the_purpose_is_denied(guard: Guard) -> None:
    decision = guard.check(user("analyst"), "improve_services", ["os", "email"])
    assert not decision
    assert decision.reason == "purpose 'improve_services' may not use email"


def test_us1_role_outside_the_purpose_is_denied(guard: Guard) -> None:
    decision = guard.check(user("analyst"), "support", ["email"])
    assert not decision
    assert decision.reason == "analyst may not act for purpose 'support'"


def test_us1_any_of_the_actors_roles_may_grant(guard: Guard) -> None:
    assert guard.check(user("auditor", "support"), "support", ["email"])


def test_sc2_data_outside_the_declaration_is_never_usable(guard: Guard) -> None:
    # Data processed for the business's own customers is not a declared category.
    decision = guard.check(Actor.system("jobs"), "improve_services", ["customer_end_user_events"])
    assert not decision
    assert "customer_end_user_events" in decision.reason
    assert not guard.is_declared_category("customer_end_user_events")


def test_us1_system_actor_acts_for_declared_purposes_only(guard: Guard) -> None:
    system = Actor.system("mailer")
    assert system.kind is ActorKind.system
    assert guard.check(system, "service_messages", ["email"])
    assert not guard.check(system, "undeclared", ["email"])


def test_us1_consent_purpose_needs_the_persons_consent(guard: Guard) -> None:
    marketer = user("marketing")
    without = guard.check(marketer, "promotional_messages", ["email"], Subject(id="p1"))
    assert not without
    assert without.reason == "person p1 has not consented to 'promotional_messages'"
    given = Subject(id="p1", consented=frozenset({"promotional_messages"}))
    assert guard.check(marketer, "promotional_messages", ["email"], given)


def test_us1_opt_out_is_honoured(guard: Guard) -> None:
    subject = Subject(id="p2", objected=frozenset({"understand_experience"}))
    decision = guard.check(user("analyst"), "understand_experience", ["os"], subject)
    assert not decision
    assert decision.reason == "person p2 opted out of 'understand_experience'"


def test_ch1_awaiting_guardian_allows_only_essential_purposes(guard: Guard) -> None:
    minor = Subject(id="p3", awaiting_guardian=True)
    assert guard.check(user("support"), "support", ["email"], minor)
    denied = guard.check(user("analyst"), "understand_experience", ["os"], minor)
    assert not denied
    assert "guardian" in denied.reason


def test_require_raises_forbidden_with_the_reason(guard: Guard) -> None:
    with pytest.raises(Forbidden, match="may not use payment_card") as info:
        guard.require(user("support"), "support", ["payment_card"])
    assert info.value.status_code == 403


def test_actions_come_from_the_roles(guard: Guard) -> None:
    assert guard.may(user("auditor"), Action.view_audit)
    denied = guard.may(user("auditor"), Action.manage_users)
    assert not denied
    assert denied.reason == "auditor may not manage_users"
    assert guard.may(Actor.system("jobs"), Action.export_data)


def test_purposes_for_lists_what_a_role_may_act_for(guard: Guard) -> None:
    assert guard.purposes_for(user("analyst")) == ["improve_services", "understand_experience"]
