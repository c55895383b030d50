"""What the dashboard shows, in words and rounded numbers: figures, tables, names of places."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import pycountry

from troth.analytics import queries
from troth.analytics.schemas import DashboardAnswer, RowOut, TotalsOut

PERIODS = [
    ("today", "Today"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("month", "This month"),
    ("last_month", "Last month"),
    ("90d", "Last 90 days"),
    ("12mo", "Last 12 months"),
    ("custom", "Custom range"),
]
# (key, label, a rise is good news)
FIGURES = [
    ("visitors", "Unique visitors", True),
    ("visits", "Visits", True),
    ("pageviews", "Pageviews", True),
    ("views_per_visit", "Views per visit", True),
    ("bounce_rate", "Bounce rate", False),
    ("visit_duration", "Visit duration", True),
]
DIMENSION_LABELS = {
    "page": "Page",
    "entry_page": "Entry page",
    "exit_page": "Exit page",
    "source": "Source",
    "utm_source": "UTM source",
    "utm_medium": "UTM medium",
    "utm_campaign": "Campaign",
    "browser": "Browser",
    "os": "Operating system",
    "device": "Device",
    "language": "Language",
    "country": "Country",
    "event": "Event",
}
# Panels of tabs: (panel title, [(dimension, tab title)])
PANELS = [
    ("Pages", [("page", "Top pages"), ("entry_page", "Entry pages"), ("exit_page", "Exit pages")]),
    ("Sources", [("source", "Sources"), ("utm_campaign", "Campaigns"),
                 ("utm_source", "UTM sources"), ("utm_medium", "UTM mediums")]),
    ("Locations", [("country", "Countries"), ("language", "Languages")]),
    ("Devices", [("browser", "Browsers"), ("os", "Operating systems"), ("device", "Devices")]),
    ("Goals and features", [("event", "Custom events")]),
]  # fmt: skip
FILTER_OF = {"entry_page": "page", "exit_page": "page"}
SECOND_COLUMN = {"page": ("Pageviews", "pageviews"), "event": ("Events", "events")}
UNKNOWN = "(not set)"
Linker = Callable[..., str]


def compact(number: float) -> str:
    if number >= 1_000_000:
        return f"{number / 1_000_000:.1f}M"
    if number >= 10_000:
        return f"{number / 1_000:.1f}k"
    return f"{number:,.0f}"


def duration(seconds: float) -> str:
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    return f"{minutes}m {rest:02d}s" if minutes else f"{rest}s"


def figure_value(key: str, totals: TotalsOut) -> str:
    value = getattr(totals, key)
    if key == "views_per_visit":
        return f"{value:.2f}"
    if key == "bounce_rate":
        return f"{value:.0f}%"
    if key == "visit_duration":
        return duration(value)
    return compact(value)


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: str
    exact: str
    change: str
    trend: str
    """"good", "bad" or "" (no change or no comparison): a CSS class."""


def change_text(key: str, change: float | None) -> str:
    if change is None:
        return ""
    arrow = "↑" if change > 0 else "↓" if change < 0 else "→"
    unit = " pts" if key == "bounce_rate" else "%"
    return f"{arrow} {abs(change):.0f}{unit}"


def trend(change: float | None, rise_is_good: bool) -> str:
    if not change:
        return ""
    return "good" if (change > 0) == rise_is_good else "bad"


def figures(answer: DashboardAnswer) -> list[Figure]:
    changes = answer.change or {}
    found = []
    for key, label, rise_is_good in FIGURES:
        exact = f"{getattr(answer.totals, key):,}"
        if key == "visitors" and not answer.totals.visitors_exact:
            exact = f"about {exact} (estimated)"
        found.append(
            Figure(
                key=key,
                label=label,
                value=figure_value(key, answer.totals),
                exact=exact,
                change=change_text(key, changes.get(key)),
                trend=trend(changes.get(key), rise_is_good),
            )
        )
    return found


@lru_cache(maxsize=512)
def country_name(code: str) -> str:
    found = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
    if found is None:
        return code or UNKNOWN
    return str(getattr(found, "common_name", None) or found.name)


@lru_cache(maxsize=512)
def language_name(code: str) -> str:
    if len(code) == 2:
        found = pycountry.languages.get(alpha_2=code.lower())
    elif len(code) == 3:
        found = pycountry.languages.get(alpha_3=code.lower())
    else:
        found = None
    return str(found.name) if found is not None else (code or UNKNOWN)


def value_label(dimension: str, value: str) -> str:
    if dimension == "country":
        return country_name(value)
    if dimension == "language":
        return language_name(value)
    if dimension == "device":
        return value.capitalize() if value else UNKNOWN
    return value or UNKNOWN


def filter_label(dimension: str, value: str) -> str:
    return f"{DIMENSION_LABELS.get(dimension, dimension)} is {value_label(dimension, value)}"


@dataclass(frozen=True)
class TableRow:
    label: str
    value: str
    visitors: str
    second: str
    share: float
    """Visitors as a percentage of the table's first row: the width of its bar."""
    href: str | None


@dataclass(frozen=True)
class Table:
    dimension: str
    title: str
    second_label: str
    rows: list[TableRow]


@dataclass(frozen=True)
class Panel:
    title: str
    tables: list[Table]


def filter_for(dimension: str) -> str | None:
    wanted = FILTER_OF.get(dimension, dimension)
    return wanted if wanted in queries.FILTER_DIMENSIONS else None


def table(
    dimension: str, title: str, rows: list[RowOut], state: dict[str, str], link: Linker
) -> Table:
    second_label, field = SECOND_COLUMN.get(dimension, ("Visits", "visits"))
    top = max((row.visitors for row in rows), default=0) or 1
    target = filter_for(dimension)
    found = [
        TableRow(
            label=value_label(dimension, row.value),
            value=row.value,
            visitors=compact(row.visitors),
            second=compact(getattr(row, field)),
            share=round(row.visitors / top * 100, 1),
            href=link(state, {f"filter_{target}": row.value}) if target and row.value else None,
        )
        for row in rows
    ]
    return Table(dimension, title, second_label, found)


def panels(answer: DashboardAnswer, state: dict[str, str], link: Linker) -> list[Panel]:
    return [
        Panel(
            title,
            [
                table(dimension, tab, answer.breakdowns.get(dimension, []), state, link)
                for dimension, tab in tabs
            ],
        )
        for title, tabs in PANELS
    ]
