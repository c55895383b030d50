"""Opt-in or opt-out per visitor region, as the declaration says."""

from __future__ import annotations

from tests.unit.consent.support import example, with_consent
from troth.consent.regions import mode_for
from troth.policy.schema import ConsentMode


def test_co6_eea_countries_and_listed_regions_need_an_opt_in() -> None:
    consent = example().consent  # opt_in_regions: EEA, GB, CH; default opt_out
    for country in ("DE", "fr", "NO", "GB", "CH", "ES-CT"):
        assert mode_for(consent, country) is ConsentMode.opt_in, country


def test_co6_other_countries_get_the_declared_default() -> None:
    consent = example().consent
    assert mode_for(consent, "US") is ConsentMode.opt_out
    assert mode_for(consent, "US-CA") is ConsentMode.opt_out
    assert mode_for(consent, "GBR") is ConsentMode.opt_out


def test_co6_an_unknown_country_gets_the_declared_default() -> None:
    assert mode_for(example().consent, None) is ConsentMode.opt_out
    strict = with_consent(example(), analytics_default=ConsentMode.opt_in).consent
    assert mode_for(strict, None) is ConsentMode.opt_in
    assert mode_for(strict, "US") is ConsentMode.opt_in


def test_co6_a_subdivision_region_covers_only_that_subdivision() -> None:
    consent = with_consent(example(), opt_in_regions=["US-CA"]).consent
    assert mode_for(consent, "US-CA") is ConsentMode.opt_in
    assert mode_for(consent, "US-NY") is ConsentMode.opt_out
