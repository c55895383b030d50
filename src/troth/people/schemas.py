"""What the people API takes and gives."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from troth.people.payment import Card
from troth.people.service import Origin, PeoplePage, UpdateResult
from troth.people.values import PersonView

Short = Annotated[str, StringConstraints(max_length=1000)]
ValueIn = Short | int | dict[str, Short | None] | None
ValueOut = str | int | dict[str, str]


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    values: dict[str, ValueIn] = Field(max_length=50)
    """Field name to value; on update, null removes a value."""
    source: str = Field(default="given", max_length=80)
    method: str = Field(default="api", max_length=128)
    collected_at: dt.datetime | None = None

    def origin(self) -> Origin:
        return Origin(self.source, self.method, self.collected_at)


class ProvenanceOut(BaseModel):
    source: str
    method: str
    collected_at: dt.datetime


class PaymentMethodIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    processor: str = Field(min_length=1, max_length=64)
    token: str = Field(min_length=1, max_length=255)
    brand: str = Field(min_length=1, max_length=32)
    last4: str = Field(min_length=1, max_length=4)
    exp_month: int
    exp_year: int

    def card(self) -> Card:
        return Card(**self.model_dump())


class PaymentMethodOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    processor: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class PersonOut(BaseModel):
    id: str
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    jurisdiction: str | None
    values: dict[str, ValueOut]
    provenance: dict[str, ProvenanceOut]
    withheld: list[str]
    """Categories this person has that the purpose (or recipient) may not see."""
    payment_methods: list[PaymentMethodOut]

    @classmethod
    def of(cls, view: PersonView) -> PersonOut:
        return cls(
            id=view.public_id,
            status=view.status,
            created_at=view.created_at,
            updated_at=view.updated_at,
            jurisdiction=view.jurisdiction,
            values=view.values,
            provenance={
                name: ProvenanceOut(source=p.source, method=p.method, collected_at=p.collected_at)
                for name, p in view.provenance.items()
            },
            withheld=view.withheld,
            payment_methods=[
                PaymentMethodOut.model_validate(card) for card in view.payment_methods
            ],
        )


class UpdateOut(BaseModel):
    id: str
    changed: list[str]
    kept: dict[str, str]
    """Fields the merge rule left as they were, with the reason."""

    @classmethod
    def of(cls, result: UpdateResult) -> UpdateOut:
        return cls(id=result.person.public_id, changed=result.changed, kept=result.kept)


class PersonSummaryOut(BaseModel):
    id: str
    status: str
    created_at: dt.datetime
    name: str | None = None


class PeoplePageOut(BaseModel):
    items: list[PersonSummaryOut]
    total: int
    page: int
    per_page: int
    names_shown: bool

    @classmethod
    def of(cls, found: PeoplePage) -> PeoplePageOut:
        items = [
            PersonSummaryOut(id=p.public_id, status=p.status, created_at=p.created_at, name=p.name)
            for p in found.items
        ]
        return cls(
            items=items,
            total=found.total,
            page=found.page,
            per_page=found.per_page,
            names_shown=found.names_shown,
        )
