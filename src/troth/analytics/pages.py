"""The analytics dashboard in the console, its CSV exports and its "right now" figure.

Everything the page shows is in its URL (site, period, comparison, filters), so a link
shares a view and every control works as a plain link or form; the page's script adds
the chart, the bars, tabs and the 30-second refresh.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from troth.analytics import csv, display, queries
from troth.analytics.routes import (
    Analyst,
    Params,
    Scope,
    StatsParams,
    dashboard_answer,
    declared_sites,
    pick_site,
    points,
    properties_answer,
    resolve,
    utc_today,
)
from troth.analytics.schemas import DashboardAnswer, PeriodOut, PointOut, RowOut
from troth.errors import BadRequest, TrothError
from troth.runtime import Runtime
from troth.security.clock import ClockDep
from troth.web.console import page
from troth.web.deps import RuntimeDep, SessionDep

router = APIRouter(prefix="/console/analytics", include_in_schema=False)

TEMPLATE = "console/analytics/dashboard.html"
DASHBOARD = "/console/analytics"
EXPORT_PATH = "/console/analytics/export.csv"
ROWS = 10
EXPORT_ROWS = 1000
CompareParam = Annotated[str, Query(max_length=8, pattern="^(on|off)$")]


def state_of(found: Scope, compare: bool) -> dict[str, str]:
    """The query string that shows this view again."""
    state = {"site": found.site, "period": found.period_name}
    if found.period_name == "custom":
        state |= {"start": found.period.start.isoformat(), "end": found.period.end.isoformat()}
    if not compare:
        state["compare"] = "off"
    return state | {f"filter_{dim}": value for dim, value in found.filters.values}


def link(
    state: dict[str, str], changes: dict[str, str | None] | None = None, path: str = DASHBOARD
) -> str:
    merged: dict[str, str | None] = {**state, **(changes or {})}
    return f"{path}?{urlencode({k: v for k, v in merged.items() if v is not None})}"


def chart_data(answer: DashboardAnswer, previous: list[PointOut] | None) -> dict[str, Any]:
    def metrics(series: list[PointOut]) -> dict[str, list[float]]:
        return {
            "visitors": [p.visitors for p in series],
            "visits": [p.visits for p in series],
            "pageviews": [p.pageviews for p in series],
            "views_per_visit": [
                round(p.pageviews / p.visits, 2) if p.visits else 0 for p in series
            ],
            "bounce_rate": [p.bounce_rate for p in series],
            "visit_duration": [p.visit_duration for p in series],
        }

    return {
        "days": [p.day.isoformat() for p in answer.series],
        "current": metrics(answer.series),
        "previous": metrics(previous) if previous else None,
        "labels": {key: label for key, label, _ in display.FIGURES},
    }


def view(
    session: Session, runtime: Runtime, found: Scope, compare: bool, now: dt.datetime
) -> dict[str, Any]:
    answer = dashboard_answer(session, found, compare, ROWS, now)
    previous = points(session, found, found.period.previous()) if compare else None
    state = state_of(found, compare)
    event = found.filter_map.get("event")
    return {
        "answer": answer,
        "state": state,
        "figures": display.figures(answer),
        "chart": chart_data(answer, previous),
        "panels": display.panels(answer, state, link),
        "chips": [
            (display.filter_label(dim, value), link(state, {f"filter_{dim}": None}))
            for dim, value in found.filters.values
        ],
        "event": event,
        "properties": properties_answer(session, found, event, 20) if event else None,
        "export": lambda panel: link(state, {"panel": panel}, EXPORT_PATH),
        "clear_link": link({k: v for k, v in state.items() if not k.startswith("filter_")}),
        "compare_link": link(state, {"compare": "off" if compare else "on"}),
        "several_days": answer.period.days > 1,
    }


def form_context(
    session: Session, runtime: Runtime, params: StatsParams, found: Scope | None, compare: bool
) -> dict[str, Any]:
    declared = declared_sites(runtime)
    sites = declared + sorted(set(queries.sites(session)) - set(declared))
    return {
        "sites": sites,
        "site": found.site if found else (params.site or declared[0]),
        "periods": display.PERIODS,
        "period_name": found.period_name if found else (params.period or "30d"),
        "start": found.period.start.isoformat() if found else (params.start or ""),
        "end": found.period.end.isoformat() if found else (params.end or ""),
        "compare": compare,
        "kept_filters": list(found.filters.values) if found else [],
    }


@router.get("", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    principal: Analyst,
    params: Params,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
    compare: CompareParam = "on",
) -> HTMLResponse:
    now, on = clock(), compare == "on"
    try:
        found = resolve(params, runtime, session, utc_today(now))
    except TrothError as exc:
        context = form_context(session, runtime, params, None, on) | {"error": exc.message}
        return page(request, runtime, principal, TEMPLATE, context, exc.status_code)
    context = form_context(session, runtime, params, found, on) | {"error": None}
    context |= view(session, runtime, found, on, now)
    return page(request, runtime, principal, TEMPLATE, context)


@router.get("/realtime")
def realtime_figure(
    _: Analyst,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
    site: Annotated[str | None, Query(max_length=253)] = None,
) -> JSONResponse:
    """What the page's script polls every 30 seconds."""
    chosen = pick_site(site, runtime, session)
    return JSONResponse({"visitors": queries.realtime_visitors(session, chosen, clock())})


@router.get("/export.csv")
def export(
    _: Analyst,
    params: Params,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
    panel: Annotated[str, Query(max_length=40)] = "dashboard",
    compare: CompareParam = "on",
) -> Response:
    """The whole dashboard, or one of its tables, as a CSV file."""
    now = clock()
    found = resolve(params, runtime, session, utc_today(now))
    if panel == "dashboard":
        answer = dashboard_answer(session, found, compare == "on", EXPORT_ROWS, now)
        return csv.response(csv.dashboard(answer), csv.filename(found.site, panel, answer.period))
    if panel == "properties":
        event = found.filter_map.get("event") or ""
        props = properties_answer(session, found, event, EXPORT_ROWS)
        return csv.response(csv.properties(props), csv.filename(found.site, panel, props.period))
    if panel not in queries.DIMENSIONS:
        raise BadRequest(f"unknown panel {panel!r}: use dashboard, properties or a dimension")
    rows = queries.breakdown(session, found.site, found.period, panel, found.filters, EXPORT_ROWS)
    table = csv.rows_table([RowOut.of(row) for row in rows])
    return csv.response(table, csv.filename(found.site, panel, PeriodOut.of(found.period)))
