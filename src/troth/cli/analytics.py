"""`troth analytics ...`: build the visit columns of past days ahead of need."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from troth.analytics import column_days, pair_days, repository
from troth.analytics.visits import utc
from troth.cli import common
from troth.collect.models import StoredEvent

app = typer.Typer(help="Analytics: the dashboard's stored answers.", no_args_is_help=True)


@app.command("build-columns")
def build_columns(
    site: Annotated[
        str | None, typer.Option(help="One site (default: every site with analytics).")
    ] = None,
    days: Annotated[
        int, typer.Option(min=1, max=3 * 366, help="How many settled days back to build.")
    ] = 366,
) -> None:
    """Build the visit columns of settled days that lack them, a day per transaction.

    Filters the rollups do not hold (browser, OS, language, campaign, event, several at
    once) read them; a day without them is built on its first filtered view instead, and a
    job builds each day as it settles. Run this once after an upgrade, or after importing
    history, so the first filtered view of older days is quick. A day whose job never ran
    also gets its pair rollups built.
    """
    runtime = common.runtime()
    with runtime.transaction() as session:
        sites = [site] if site else repository.sites(session)
        wanted = {name: _settled_days(session, name, days) for name in sites}
    if site and not wanted[site]:
        common.fail(f"site {site!r} has no settled day with analytics")
    total = sum(len(found) for found in wanted.values())
    built = 0
    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    )  # fmt: skip
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("visit columns", total=total)
        for name, found in wanted.items():
            for day in found:
                progress.update(task, description=f"{name} {day.isoformat()}")
                with runtime.transaction() as session:
                    # A day whose job never ran gets its pair rollups and its visit
                    # columns from its waiting blocks first, not from its events.
                    paired = pair_days.build_day(session, name, day)
                    built += column_days.build(session, name, [day]) or int(paired)
                progress.advance(task)
    typer.echo(f"built {built} of {total} days ({total - built} were stored already)")


def _settled_days(session: Session, site: str, days: int) -> list[dt.date]:
    """Up to `days` days before the site's settled day, from its first event on."""
    state = repository.state(session, site)
    first = session.scalar(select(func.min(StoredEvent.ts)).where(StoredEvent.site == site))
    if state is None or first is None:
        return []
    settled = utc(state.open_since).date()
    start = max(utc(first).date(), settled - dt.timedelta(days=days))
    return [start + dt.timedelta(days=n) for n in range((settled - start).days)]
