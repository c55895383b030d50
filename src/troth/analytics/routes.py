"""The stats API, /api/v1/stats/...: JSON, or CSV with ?format=csv or Accept: text/csv.

Every route asks the guard for the purpose the statistics serve (US1) over the categories
they are computed from; the example declaration gives it to admin, analyst and marketing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from troth.analytics import csv, queries
from troth.analytics.schemas import (
    BreakdownAnswer,
    DashboardAnswer,
    PeriodOut,
    PointOut,
    PropertiesAnswer,
    PropertyOut,
    RealtimeAnswer,
    RowOut,
    SeriesAnswer,
    SiteOut,
    SitesOut,
    TotalsAnswer,
    TotalsOut,
    change,
)
from troth.errors import BadRequest, NotFound
from troth.runtime import Runtime
from troth.security.clock import ClockDep
from troth.security.deps import Principal, requires_purpose
from troth.web.deps import RuntimeDep, SessionDep

STATS_PURPOSE = "understand_experience"
STATS_CATEGORIES = (
    "access_times",
    "browser",
    "cookie_id",
    "language",
    "os",
    "product_events",
    "referrer",
)
DEFAULT_PERIOD = "30d"
FILTER_PREFIX = "filter_"
MAX_LIMIT = 1000

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])

views_stats = requires_purpose(STATS_PURPOSE, STATS_CATEGORIES)
Analyst = Annotated[Principal, Depends(views_stats)]

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}
FILTER_PARAMETERS = {
    "parameters": [
        {
            "name": f"{FILTER_PREFIX}{dimension}",
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": f"Only traffic whose {dimension} is exactly this value; "
            "several filters combine (AND).",
        }
        for dimension in queries.FILTER_DIMENSIONS
    ]
}


@dataclass(frozen=True)
class StatsParams:
    """The question as sent, before it is checked."""

    site: str | None = None
    period: str | None = None
    start: str | None = None
    end: str | None = None
    filters: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Scope:
    """The question checked: a known site, whole days, filters on known dimensions."""

    site: str
    period_name: str
    period: queries.Period
    filters: queries.Filters

    @property
    def filter_map(self) -> dict[str, str]:
        return dict(self.filters.values)


SiteParam = Annotated[
    str | None,
    Query(max_length=253, description="A declared site (default: the first one)."),
]


def stats_params(
    request: Request,
    _: Analyst,
    site: SiteParam = None,
    period: Annotated[
        str | None,
        Query(
            max_length=20,
            description="today, 7d, 30d (default), month, last_month, 90d, 12mo or custom.",
        ),
    ] = None,
    start: Annotated[
        str | None, Query(max_length=32, description="First day (YYYY-MM-DD) of a custom period.")
    ] = None,
    end: Annotated[
        str | None, Query(max_length=32, description="Last day (YYYY-MM-DD) of a custom period.")
    ] = None,
) -> StatsParams:
    """Depends on the guard first, so a refused caller hears 403 whatever else is wrong."""
    found = tuple(
        (key, value) for key, value in request.query_params.items() if key.startswith(FILTER_PREFIX)
    )
    return StatsParams(site, period, start, end, found)


Params = Annotated[StatsParams, Depends(stats_params)]


def declared_sites(runtime: Runtime) -> list[str]:
    return [site.domain for site in runtime.declaration.sites]


def pick_site(wanted: str | None, runtime: Runtime, session: Session) -> str:
    declared = declared_sites(runtime)
    if wanted is None or not wanted.strip():
        return declared[0]
    site = wanted.strip().lower()
    if site in declared or site in queries.sites(session):
        return site
    raise NotFound(f"no such site: {wanted!r} (declared: {', '.join(declared)})")


def resolve(params: StatsParams, runtime: Runtime, session: Session, today: dt.date) -> Scope:
    """Check the question; BadRequest or NotFound says what is wrong with it."""
    site = pick_site(params.site, runtime, session)
    name = params.period or ("custom" if params.start or params.end else DEFAULT_PERIOD)
    period = queries.Period.parse(name, today, params.start, params.end)
    return Scope(site, name, period, queries.Filters.parse(dict(params.filters)))


def utc_today(now: dt.datetime) -> dt.date:
    return now.astimezone(dt.UTC).date() if now.tzinfo else now.date()


def scope(params: Params, runtime: RuntimeDep, session: SessionDep, clock: ClockDep) -> Scope:
    return resolve(params, runtime, session, utc_today(clock()))


ScopeDep = Annotated[Scope, Depends(scope)]
Format = Annotated[
    Literal["json", "csv"] | None,
    Query(alias="format", description="csv for a CSV file; json by default."),
]
Compare = Annotated[bool, Query(description="Also answer for the previous period.")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per table.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


def wants_csv(request: Request, fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    return "text/csv" in request.headers.get("accept", "")


def scoped(found: Scope) -> dict[str, Any]:
    return {
        "site": found.site,
        "period": PeriodOut.of(found.period),
        "filters": found.filter_map,
    }


@router.get("/sites", response_model=SitesOut, responses=CSV_RESPONSE)
def list_sites(
    request: Request, _: Analyst, runtime: RuntimeDep, session: SessionDep, fmt: Format = None
) -> SitesOut | Response:
    """Declared sites, and any other site that has events."""
    declared = declared_sites(runtime)
    with_events = set(queries.sites(session))
    names = declared + sorted(with_events - set(declared))
    answer = SitesOut(
        default=declared[0],
        sites=[SiteOut(site=n, declared=n in declared, has_events=n in with_events) for n in names],
    )
    if wants_csv(request, fmt):
        return csv.response(csv.sites(answer), "sites.csv")
    return answer


def totals_answer(session: Session, found: Scope, compare: bool) -> TotalsAnswer:
    current = queries.totals(session, found.site, found.period, found.filters)
    answer = TotalsAnswer(**scoped(found), totals=TotalsOut.of(current))
    if compare:
        before = found.period.previous()
        previous = queries.totals(session, found.site, before, found.filters)
        answer.previous_period = PeriodOut.of(before)
        answer.previous = TotalsOut.of(previous)
        answer.change = change(current, previous)
    return answer


@router.get(
    "/totals", response_model=TotalsAnswer, responses=CSV_RESPONSE, openapi_extra=FILTER_PARAMETERS
)
def totals(
    request: Request, found: ScopeDep, session: SessionDep, compare: Compare = False,
    fmt: Format = None,
) -> TotalsAnswer | Response:  # fmt: skip
    """Unique visitors, visits, page views, views per visit, bounce rate, visit duration."""
    answer = totals_answer(session, found, compare)
    if wants_csv(request, fmt):
        return csv.response(csv.totals(answer), csv.filename(found.site, "totals", answer.period))
    return answer


def points(session: Session, found: Scope, period: queries.Period) -> list[PointOut]:
    return [PointOut.of(p) for p in queries.series(session, found.site, period, found.filters)]


@router.get(
    "/series", response_model=SeriesAnswer, responses=CSV_RESPONSE, openapi_extra=FILTER_PARAMETERS
)
def series(
    request: Request, found: ScopeDep, session: SessionDep, compare: Compare = False,
    fmt: Format = None,
) -> SeriesAnswer | Response:  # fmt: skip
    """One point per day of the period, days without traffic included."""
    answer = SeriesAnswer(**scoped(found), points=points(session, found, found.period))
    if compare:
        answer.previous_points = points(session, found, found.period.previous())
    if wants_csv(request, fmt):
        table = csv.series(answer.points, answer.previous_points)
        return csv.response(table, csv.filename(found.site, "series", answer.period))
    return answer


def check_dimension(dimension: str) -> str:
    if dimension not in queries.DIMENSIONS:
        known = ", ".join(queries.DIMENSIONS)
        raise BadRequest(f"unknown dimension {dimension!r}: use one of {known}")
    return dimension


@router.get(
    "/breakdown/{dimension}",
    response_model=BreakdownAnswer,
    responses=CSV_RESPONSE,
    openapi_extra=FILTER_PARAMETERS,
)
def breakdown(
    request: Request,
    found: ScopeDep,
    session: SessionDep,
    dimension: Annotated[
        str, Path(max_length=40, json_schema_extra={"enum": list(queries.DIMENSIONS)})
    ],
    limit: Limit = 10,
    offset: Offset = 0,
    fmt: Format = None,
) -> BreakdownAnswer | Response:
    """Top values of one dimension, by visitors."""
    check_dimension(dimension)
    rows = queries.breakdown(
        session, found.site, found.period, dimension, found.filters, limit, offset
    )
    answer = BreakdownAnswer(
        **scoped(found), dimension=dimension, limit=limit, offset=offset,
        rows=[RowOut.of(row) for row in rows],
    )  # fmt: skip
    if wants_csv(request, fmt):
        name = csv.filename(found.site, dimension, answer.period)
        return csv.response(csv.breakdown(answer), name)
    return answer


@router.get(
    "/events/{name}/properties",
    response_model=PropertiesAnswer,
    responses=CSV_RESPONSE,
    openapi_extra=FILTER_PARAMETERS,
)
def event_properties(
    request: Request,
    found: ScopeDep,
    session: SessionDep,
    name: Annotated[str, Path(max_length=120, description="A custom event's name.")],
    limit: Limit = 10,
    fmt: Format = None,
) -> PropertiesAnswer | Response:
    """The properties sent with one custom event, and how often each value came."""
    answer = properties_answer(session, found, name, limit)
    if wants_csv(request, fmt):
        return csv.response(csv.properties(answer), csv.filename(found.site, name, answer.period))
    return answer


def properties_answer(session: Session, found: Scope, name: str, limit: int) -> PropertiesAnswer:
    found_props = queries.event_properties(
        session, found.site, found.period, name, found.filters, limit
    )
    return PropertiesAnswer(
        **scoped(found),
        event=name,
        properties=[
            PropertyOut(key=key, value=value, events=events, visitors=visitors)
            for key, value, events, visitors in found_props
        ],
    )


def realtime_answer(session: Session, site: str, now: dt.datetime) -> RealtimeAnswer:
    return RealtimeAnswer(site=site, visitors=queries.realtime_visitors(session, site, now), at=now)


@router.get("/realtime", response_model=RealtimeAnswer, responses=CSV_RESPONSE)
def realtime(
    request: Request,
    _: Analyst,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
    site: SiteParam = None,
    fmt: Format = None,
) -> RealtimeAnswer | Response:
    """Distinct visitors in the last five minutes."""
    site = pick_site(site, runtime, session)
    answer = realtime_answer(session, site, clock())
    if wants_csv(request, fmt):
        return csv.response(csv.realtime(answer), csv.filename(site, "realtime"))
    return answer


def dashboard_answer(
    session: Session, found: Scope, compare: bool, limit: int, now: dt.datetime
) -> DashboardAnswer:
    board = queries.dashboard(
        session, found.site, found.period, found.filters, compare=compare, limit=limit, now=now
    )
    answer = DashboardAnswer(
        **scoped(found),
        totals=TotalsOut.of(board.totals),
        series=[PointOut.of(p) for p in board.series],
        breakdowns={k: [RowOut.of(r) for r in rows] for k, rows in board.breakdowns.items()},
        realtime_visitors=board.realtime_visitors,
        source=board.source,
    )
    if board.previous is not None:
        answer.previous_period = PeriodOut.of(found.period.previous())
        answer.previous = TotalsOut.of(board.previous)
        answer.change = change(board.totals, board.previous)
    return answer


@router.get(
    "/dashboard",
    response_model=DashboardAnswer,
    responses=CSV_RESPONSE,
    openapi_extra=FILTER_PARAMETERS,
)
def dashboard(
    request: Request,
    found: ScopeDep,
    session: SessionDep,
    clock: ClockDep,
    compare: Compare = False,
    limit: Limit = 10,
    fmt: Format = None,
) -> DashboardAnswer | Response:
    """Every panel at once: totals, the daily series, each breakdown's top rows, right now."""
    answer = dashboard_answer(session, found, compare, limit, clock())
    if wants_csv(request, fmt):
        name = csv.filename(found.site, "dashboard", answer.period)
        return csv.response(csv.dashboard(answer), name)
    return answer
