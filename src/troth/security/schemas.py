"""What the admin API says about callers and tokens."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class Me(BaseModel):
    actor: str
    kind: str
    roles: list[str]
    purposes: list[str]
    actions: list[str]


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    role: str = Field(min_length=1, max_length=64)


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: str
    created_by: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class NewToken(TokenOut):
    token: str
    """The secret value, shown this once."""


class PolicyVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    last_updated: dt.date
    effective_date: dt.date
    published_at: dt.datetime
    published_by: str
    content_hash: str
