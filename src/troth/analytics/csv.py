"""CSV renderings of the stats answers: one header row, the same numbers as the JSON.

Cells that a spreadsheet would read as a formula (a campaign name such as "=HYPERLINK(...)"
sent by anyone with a link) are prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from fastapi.responses import Response

from troth.analytics.schemas import (
    BreakdownAnswer,
    DashboardAnswer,
    PeriodOut,
    PointOut,
    PropertiesAnswer,
    RealtimeAnswer,
    RowOut,
    SitesOut,
    TotalsAnswer,
    TotalsOut,
)

MEDIA_TYPE = "text/csv; charset=utf-8"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int | float | bool | None
Table = tuple[Sequence[str], Iterable[Sequence[Cell]]]

ROW_FIELDS = ("visitors", "visits", "pageviews", "events", "bounce_rate", "visit_duration")
TOTAL_FIELDS = (
    "visitors",
    "visits",
    "pageviews",
    "events",
    "views_per_visit",
    "bounce_rate",
    "visit_duration",
)
POINT_FIELDS = ("visitors", "visits", "pageviews", "bounce_rate", "visit_duration")
DASHBOARD_HEADER = ("panel", "value", *TOTAL_FIELDS)


def safe(cell: Cell) -> Cell:
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def render(table: Table) -> str:
    header, rows = table
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([safe(cell) for cell in row] for row in rows)
    return out.getvalue()


def response(table: Table, filename: str) -> Response:
    return Response(
        render(table),
        media_type=MEDIA_TYPE,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


def filename(site: str, what: str, period: PeriodOut | None = None) -> str:
    span = f"-{period.start.isoformat()}-{period.end.isoformat()}" if period else ""
    name = f"{site}-{what}{span}.csv"
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)


def _fields(model: object, names: Sequence[str]) -> list[Cell]:
    return [getattr(model, name) for name in names]


def rows_table(rows: Sequence[RowOut]) -> Table:
    return ("value", *ROW_FIELDS), [[row.value, *_fields(row, ROW_FIELDS)] for row in rows]


def breakdown(answer: BreakdownAnswer) -> Table:
    return rows_table(answer.rows)


def _totals_line(label: str, period: PeriodOut, totals: TotalsOut) -> list[Cell]:
    return [label, period.start.isoformat(), period.end.isoformat(), *_fields(totals, TOTAL_FIELDS)]


def totals(answer: TotalsAnswer) -> Table:
    lines = [_totals_line("current", answer.period, answer.totals)]
    if answer.previous is not None and answer.previous_period is not None:
        lines.append(_totals_line("previous", answer.previous_period, answer.previous))
    return ("period", "start", "end", *TOTAL_FIELDS), lines


def _point_lines(label: str, points: Sequence[PointOut]) -> list[list[Cell]]:
    return [[label, p.day.isoformat(), *_fields(p, POINT_FIELDS)] for p in points]


def series(points: Sequence[PointOut], previous: Sequence[PointOut] | None = None) -> Table:
    lines = _point_lines("current", points) + _point_lines("previous", previous or [])
    return ("period", "day", *POINT_FIELDS), lines


def properties(answer: PropertiesAnswer) -> Table:
    lines: list[list[Cell]] = [[p.key, p.value, p.events, p.visitors] for p in answer.properties]
    return ("property", "value", "events", "visitors"), lines


def realtime(answer: RealtimeAnswer) -> Table:
    return ("site", "visitors", "at"), [[answer.site, answer.visitors, answer.at.isoformat()]]


def sites(answer: SitesOut) -> Table:
    lines: list[list[Cell]] = [[s.site, s.declared, s.has_events] for s in answer.sites]
    return ("site", "declared", "has_events"), lines


def dashboard(answer: DashboardAnswer) -> Table:
    """Every panel in one long table: panel, value, then the figures that apply."""
    lines: list[list[Cell]] = [["totals", "current", *_fields(answer.totals, TOTAL_FIELDS)]]
    if answer.previous is not None:
        lines.append(["totals", "previous", *_fields(answer.previous, TOTAL_FIELDS)])
    lines.append(["realtime", "visitors right now", answer.realtime_visitors, *[None] * 6])
    for point in answer.series:
        lines.append(["series", point.day.isoformat(), *_point_cells(point)])
    for dimension, rows in answer.breakdowns.items():
        lines.extend([dimension, row.value, *_row_cells(row)] for row in rows)
    return DASHBOARD_HEADER, lines


def _point_cells(point: PointOut) -> list[Cell]:
    views = round(point.pageviews / point.visits, 2) if point.visits else 0.0
    return [point.visitors, point.visits, point.pageviews, None, views,
            point.bounce_rate, point.visit_duration]  # fmt: skip


def _row_cells(row: RowOut) -> list[Cell]:
    views = round(row.pageviews / row.visits, 2) if row.visits else 0.0
    return [row.visitors, row.visits, row.pageviews, row.events, views,
            row.bounce_rate, row.visit_duration]  # fmt: skip
