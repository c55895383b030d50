"""What the banner sends and receives."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from troth.policy.schema import ConsentMode

VisitorKey = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
BannerVersion = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
SiteName = Annotated[str, StringConstraints(min_length=1, max_length=253)]


class Method(StrEnum):
    banner_accept_all = "banner_accept_all"
    banner_reject_all = "banner_reject_all"
    banner_choose = "banner_choose"
    gpc = "gpc"
    withdrawn = "withdrawn"


class Choice(BaseModel):
    """The switchable categories; necessary cookies need no consent and are always on."""

    model_config = ConfigDict(extra="forbid")

    analytics: bool
    marketing: bool = False


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site: SiteName
    visitor_key: VisitorKey
    choice: Choice
    method: Method
    banner_version: BannerVersion


class ConsentConfig(BaseModel):
    mode: ConsentMode
    """opt_in: nothing is assumed before a choice; opt_out: analytics starts pre-checked."""
    policy_version: int | None
