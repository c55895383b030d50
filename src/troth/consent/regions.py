"""Whether analytics needs an opt-in or allows an opt-out, for a visitor's country."""

from __future__ import annotations

from collections.abc import Callable

from troth.policy.schema import Consent, ConsentMode

CountryLookup = Callable[[str], str | None]
"""An IP address to an ISO 3166 country code (optionally with a subdivision), or None."""

EEA = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
    ]
)


def _covers(region: str, country: str) -> bool:
    if region == "EEA":
        return country.split("-")[0] in EEA
    return country == region or country.startswith(f"{region}-")


def mode_for(consent: Consent, country: str | None) -> ConsentMode:
    """The declared mode for a country; the declaration's default when it is not known."""
    if not country:
        return consent.analytics_default
    code = country.upper()
    if any(_covers(region, code) for region in consent.opt_in_regions):
        return ConsentMode.opt_in
    return consent.analytics_default
