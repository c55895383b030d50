"""The console page of the consent ledger: how many choices of each kind, day by day."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from troth.consent import service
from troth.consent.schemas import Method
from troth.policy.schema import Action
from troth.security.clock import ClockDep
from troth.security.deps import Principal, requires
from troth.web.console import page
from troth.web.deps import RuntimeDep, SessionDep

router = APIRouter(prefix="/console", include_in_schema=False)

ViewsAnalytics = Annotated[Principal, Depends(requires(Action.view_analytics))]
DAYS = 30


@router.get("/consent", response_class=HTMLResponse)
def consent_page(
    request: Request,
    principal: ViewsAnalytics,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
) -> HTMLResponse:
    context = {
        "days": service.counts(session, clock(), DAYS),
        "methods": [method.value for method in Method],
        "period": DAYS,
    }
    return page(request, runtime, principal, "console/consent.html", context)
