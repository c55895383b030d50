"""What the stats API answers (Pydantic), built from the dataclasses of troth.analytics.queries."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from troth.analytics import queries


class PeriodOut(BaseModel):
    start: dt.date
    end: dt.date
    days: int = Field(description="Whole UTC days, both ends included.")

    @classmethod
    def of(cls, period: queries.Period) -> PeriodOut:
        return cls(start=period.start, end=period.end, days=(period.end - period.start).days + 1)


class TotalsOut(BaseModel):
    visitors: int = Field(description="Distinct visitors; a cookieless visitor counts once a day.")
    visits: int
    pageviews: int
    events: int = Field(description="Every event stored: page views and custom events.")
    views_per_visit: float
    bounce_rate: float = Field(description="Percent of visits with one page view and no event.")
    visit_duration: float = Field(description="Mean seconds from a visit's first to last event.")
    visitors_exact: bool = Field(description="False when visitors come from a merged estimate.")

    @classmethod
    def of(cls, totals: queries.Totals) -> TotalsOut:
        return cls(
            visitors=totals.visitors,
            visits=totals.visits,
            pageviews=totals.pageviews,
            events=totals.events,
            views_per_visit=round(totals.views_per_visit, 2),
            bounce_rate=round(totals.bounce_rate, 1),
            visit_duration=round(totals.visit_duration, 1),
            visitors_exact=totals.visitors_exact,
        )


class PointOut(BaseModel):
    day: dt.date
    visitors: int
    visits: int
    pageviews: int
    bounce_rate: float
    visit_duration: float

    @classmethod
    def of(cls, point: queries.Point) -> PointOut:
        return cls(
            day=point.day,
            visitors=point.visitors,
            visits=point.visits,
            pageviews=point.pageviews,
            bounce_rate=round(point.bounce_rate, 1),
            visit_duration=round(point.visit_duration, 1),
        )


class RowOut(BaseModel):
    value: str
    visitors: int
    visits: int
    pageviews: int
    events: int
    bounce_rate: float
    visit_duration: float

    @classmethod
    def of(cls, row: queries.Row) -> RowOut:
        return cls(
            value=row.value,
            visitors=row.visitors,
            visits=row.visits,
            pageviews=row.pageviews,
            events=row.events,
            bounce_rate=round(row.bounce_rate, 1),
            visit_duration=round(row.visit_duration, 1),
        )


class PropertyOut(BaseModel):
    key: str
    value: str
    events: int
    visitors: int


class Scoped(BaseModel):
    """What every answer repeats about the question it answers."""

    site: str
    period: PeriodOut
    filters: dict[str, str] = Field(description="filter_<dimension> values, all applied (AND).")


class SiteOut(BaseModel):
    site: str
    declared: bool = Field(description="Named in the declaration's sites.")
    has_events: bool


class SitesOut(BaseModel):
    default: str
    sites: list[SiteOut]


class TotalsAnswer(Scoped):
    totals: TotalsOut
    previous_period: PeriodOut | None = None
    previous: TotalsOut | None = None
    change: dict[str, float | None] | None = Field(
        default=None,
        description="Percent change against the previous period; for bounce_rate the "
        "difference in points; null where the previous figure is zero.",
    )


class SeriesAnswer(Scoped):
    points: list[PointOut]
    previous_points: list[PointOut] | None = None


class BreakdownAnswer(Scoped):
    dimension: str
    limit: int
    offset: int
    rows: list[RowOut]


class PropertiesAnswer(Scoped):
    event: str
    properties: list[PropertyOut]


class RealtimeAnswer(BaseModel):
    site: str
    visitors: int = Field(description="Distinct visitors in the last five minutes.")
    at: dt.datetime


class DashboardAnswer(TotalsAnswer):
    series: list[PointOut]
    breakdowns: dict[str, list[RowOut]]
    realtime_visitors: int
    source: str = Field(description='"rollups" or "visit columns": what answered.')


CHANGE_FIELDS = ("visitors", "visits", "pageviews", "views_per_visit", "visit_duration")


def change(current: queries.Totals, previous: queries.Totals) -> dict[str, float | None]:
    """Percent change of each figure; bounce rate as a difference in points."""
    found: dict[str, float | None] = {
        name: percent_change(getattr(current, name), getattr(previous, name))
        for name in CHANGE_FIELDS
    }
    points = current.bounce_rate - previous.bounce_rate
    found["bounce_rate"] = round(points, 1) if previous.visits else None
    return found


def percent_change(current: float, previous: float) -> float | None:
    if not previous:
        return None
    return round((current - previous) / previous * 100, 1)
