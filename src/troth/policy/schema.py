"""The shape of `policy.yaml`: what a business declares once and Troth then runs.

The schema checks shapes (types, required fields, known words). Whether the pieces
agree with each other (a purpose naming an undeclared category, an expired safeguard)
is the job of `checks.py`, so that one run reports every problem at once.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, HttpUrl, StringConstraints

Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Relation(StrEnum):
    parent = "parent"
    subsidiary = "subsidiary"
    affiliate = "affiliate"


class GroupEntity(Strict):
    name: Text
    relation: Relation
    country: CountryCode


class Organization(Strict):
    legal_name: Text
    short_name: Text
    group: list[GroupEntity] = Field(default_factory=list)
    support_email: EmailStr
    postal_address: Text
    terms_url: HttpUrl | None = None


class Site(Strict):
    domain: Annotated[str, StringConstraints(pattern=r"^[a-z0-9.-]+\.[a-z]{2,}$")]
    include_subdomains: bool = True


class OutOfScope(Strict):
    """Data the business handles for its own customers, as their processor (SC2)."""

    processor_data: Text
    terms_url: HttpUrl | None = None


class Source(StrEnum):
    given = "given"
    automatic = "automatic"
    third_party = "third_party"


class Category(Strict):
    label: Text
    group: Id
    description: Text
    sources: list[Source] = Field(min_length=1)
    retention_days: int | None = Field(default=None, gt=0)
    token_only: bool = False
    """The raw value is never accepted; only a processor's reference to it."""


class DataSource(Strict):
    """A third party whose information may be combined with what people give (CO2)."""

    name: Text
    categories: list[Id] = Field(min_length=1)


class Basis(StrEnum):
    contract = "contract"
    consent = "consent"
    legitimate_interest = "legitimate_interest"
    legal_obligation = "legal_obligation"


class Purpose(Strict):
    label: Text
    description: Text
    basis: Basis
    categories: list[Id] = Field(min_length=1)
    roles: list[Id] = Field(min_length=1)
    promotional: bool = False
    opt_out: bool = False
    """People may object to this use (a preference or an unsubscribe link)."""
    essential: bool = False
    """Needed to run an account at all; still allowed while guardian consent is pending."""


class Action(StrEnum):
    manage_users = "manage_users"
    manage_policy = "manage_policy"
    process_requests = "process_requests"
    view_audit = "view_audit"
    manage_recipients = "manage_recipients"
    disclose = "disclose"
    export_data = "export_data"
    send_campaigns = "send_campaigns"
    view_analytics = "view_analytics"
    manage_people = "manage_people"


class Role(Strict):
    label: Text
    actions: list[Action] = Field(default_factory=list)


class MessageKind(Strict):
    label: Text
    promotional: bool
    purpose: Id


class CookieCategory(StrEnum):
    necessary = "necessary"
    analytics = "analytics"
    marketing = "marketing"


class Cookie(Strict):
    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+$")]
    category: CookieCategory
    purpose: Id
    lifetime_days: int = Field(gt=0)
    description: Text


class BeaconPlace(StrEnum):
    site = "site"
    email = "email"


class Beacon(Strict):
    name: Id
    place: BeaconPlace
    category: CookieCategory
    purpose: Id
    description: Text


class ConsentMode(StrEnum):
    opt_in = "opt_in"
    opt_out = "opt_out"


class Consent(Strict):
    analytics_default: ConsentMode = ConsentMode.opt_out
    opt_in_regions: list[CountryCode | Literal["EEA"]] = Field(default_factory=list)
    honor_gpc: bool = True
    honor_dnt: bool = True
    banner_languages: list[Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]] = ["en"]


class IpHandling(StrEnum):
    drop = "drop"
    truncate = "truncate"
    encrypt = "encrypt"


class Collection(Strict):
    ip: IpHandling = IpHandling.truncate
    ip_purpose: Id | None = None
    """With ip: encrypt, the purpose the kept address serves (fraud prevention)."""
    campaign_parameters: list[str] = ["utm_source", "utm_medium", "utm_campaign"]


class TransferBasis(StrEnum):
    consent = "consent"
    adequacy = "adequacy"
    standard_clauses = "standard_clauses"


class Storage(Strict):
    regions: list[CountryCode] = Field(min_length=1)
    transfer_basis: TransferBasis


class SafeguardKind(StrEnum):
    dpf = "dpf"
    eu_law = "eu_law"
    adequacy = "adequacy"
    written_agreement = "written_agreement"


class Safeguard(Strict):
    kind: SafeguardKind
    valid_until: dt.date | None = None
    """Data Privacy Framework: the date the certification must be renewed by."""
    country: CountryCode | None = None
    """EU law or adequacy: the recipient's country."""
    signed: dt.date | None = None
    expires: dt.date | None = None


class RecipientRole(StrEnum):
    processor = "processor"
    affiliate = "affiliate"
    partner = "partner"


class ThirdParty(Strict):
    id: Id
    name: Text
    role: RecipientRole
    purposes: list[Id] = Field(min_length=1)
    categories: list[Id] = Field(min_length=1)
    country: CountryCode
    safeguard: Safeguard | None = None
    policy_url: HttpUrl | None = None


class Exception_(Strict):
    enabled: bool = True
    notify_subject: bool = False


class Disclosures(Strict):
    """The exceptions to 'never without consent' (SH1b-SH1e)."""

    legal_request: Exception_ = Exception_(notify_subject=True)
    protect_rights: Exception_ = Exception_()
    emergency: Exception_ = Exception_()
    business_transfer: Exception_ = Exception_()


class AggregateSharing(Strict):
    aggregate: bool = True
    deidentified: bool = True
    min_group_size: int = Field(default=10, ge=2)


class Security(Strict):
    encryption_at_rest: bool = True
    audit_log: bool = True
    console_password_min_length: int = Field(default=12, ge=8)
    customer_password_min_length: int = Field(default=15, ge=8)
    breached_password_check: bool = True


class Children(Strict):
    default_age_of_majority: int = Field(default=18, ge=13, le=21)
    ages_of_majority: dict[CountryCode, int] = Field(default_factory=dict)
    guardian_consent: bool = True


class Right(StrEnum):
    access = "access"
    correction = "correction"
    deletion = "deletion"
    contact_preferences = "contact_preferences"
    opt_out_sharing = "opt_out_sharing"
    opt_out_promotional = "opt_out_promotional"


class Channel(StrEnum):
    email = "email"
    web_form = "web_form"
    api = "api"


class Rights(Strict):
    offered: list[Right] = Field(min_length=1)
    channels: list[Channel] = Field(min_length=1)
    deadline_days: int = Field(default=30, gt=0, le=90)


class Changes(Strict):
    acceptance: Literal["continued_use"] = "continued_use"


class Declaration(Strict):
    last_updated: dt.date
    effective_date: dt.date | None = None
    organization: Organization
    sites: list[Site] = Field(min_length=1)
    out_of_scope: OutOfScope
    categories: dict[Id, Category] = Field(min_length=1)
    data_sources: dict[Id, DataSource] = Field(default_factory=dict)
    purposes: dict[Id, Purpose] = Field(min_length=1)
    roles: dict[Id, Role] = Field(min_length=1)
    message_kinds: dict[Id, MessageKind] = Field(default_factory=dict)
    cookies: list[Cookie] = Field(default_factory=list)
    beacons: list[Beacon] = Field(default_factory=list)
    consent: Consent = Consent()
    collection: Collection = Collection()
    storage: Storage
    third_parties: list[ThirdParty] = Field(default_factory=list)
    disclosures: Disclosures = Disclosures()
    aggregate_sharing: AggregateSharing = AggregateSharing()
    security: Security = Security()
    children: Children = Children()
    rights: Rights
    changes: Changes = Changes()
