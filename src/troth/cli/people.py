"""`troth people ...`: import people's records from a declared source."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from troth.cli import common
from troth.errors import BadRequest, TrothError
from troth.people.context import PeopleContext, context_for
from troth.people.import_batch import BATCH_ROWS, ImportJob
from troth.people.import_report import Report, ReportFile
from troth.people.import_rows import open_rows
from troth.people.import_rules import resolve_source
from troth.people.importing import run_import
from troth.runtime import Runtime
from troth.security.clock import utcnow

app = typer.Typer(help="People's records: import from a declared source.", no_args_is_help=True)

IMPORT_HELP = "\n\n".join(
    (
        "Import people's records from a CSV or JSON file, from a declared source.",
        "The file is CSV with a header row, a JSON array of objects, or JSON Lines. Columns "
        "(keys) are person fields (name, phone, company, country, ...; postal_address as "
        "postal_address.line1, .city, .postal_code, .country, ...) plus email, which matches "
        "each row to a person.",
        "--source is a data source the declaration declares (data_sources in policy.yaml), or "
        "`given` for what people gave themselves (an export of a sign-up form, say). A declared "
        "data source only adds to people who already exist: a row whose email matches nobody is "
        "rejected. Only a `given` file creates people.",
        "Each value is merged by its provenance: what a person gave is never replaced by a "
        "third party, newer third-party data replaces older. Combining is asked of the guard "
        "per person, under combine_third_party (deliver_services for `given`; see --purpose), "
        "so a person who objected, or who awaits a guardian's consent, is skipped with the "
        "reason. A row with an invalid value, a field its source does not supply, or a card "
        "number in any cell is rejected whole. Rows are committed in batches: if the import "
        "stops, the batches before it are kept and the last line says where it stopped.",
        "Row numbers are CSV and JSON Lines line numbers (the header is line 1), or the "
        "position of the object in a JSON array. Exits 0 when the import ran, rejections or "
        "not.",
    )
)


@app.command("import", help=IMPORT_HELP)
def import_file(
    file: Annotated[Path, typer.Argument(help="The CSV or JSON file.")],
    source: Annotated[
        str, typer.Option("--source", "-s", help="A declared data source, or given.")
    ],
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Write every rejected row number and reason here, as CSV."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="When the source collected the data (ISO date or date-time; now)."
        ),
    ] = None,
    purpose: Annotated[
        str | None, typer.Option("--purpose", help="A declared purpose to import for.")
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=10_000, help="Rows per transaction.")
    ] = BATCH_ROWS,
) -> None:
    with _one_line_errors():
        collected_at = _collected_at(as_of)
        run = common.runtime()
        try:
            ctx = context_for(run)
            chosen = resolve_source(run.declaration, source, file.name, collected_at, purpose)
            job = ImportJob(file, chosen, batch_rows=batch_size)
            result = _run_with_progress(run, ctx, job, report)
        finally:
            run.close()
    for line in result.lines():
        typer.echo(line)
    if result.stopped:
        common.fail(result.stopped)


def _run_with_progress(
    run: Runtime, ctx: PeopleContext, job: ImportJob, path: Path | None
) -> Report:
    sink = _open_report(path)
    result = Report(on_reject=sink.write if sink else None)
    size = _size(job.path)
    progress = _progress()
    task = progress.add_task("importing", total=size, rows=0)

    def on_read(count: int) -> None:
        progress.update(task, advance=count, rows=result.rows)

    try:
        rows = open_rows(job.path, on_read)  # a bad header fails here, before any output
        with progress:
            run_import(run, ctx, job, result, rows)
            progress.update(task, completed=size, rows=result.rows)
    finally:
        if sink is not None:
            sink.close()
    return result


class RowsColumn(ProgressColumn):
    """Rows done and rows per second."""

    def render(self, task: Task) -> Text:
        rows = int(task.fields.get("rows", 0))
        elapsed = task.finished_time if task.finished else task.elapsed
        rate = rows / elapsed if elapsed else 0.0
        return Text(f"{rows} rows  {rate:,.0f} rows/s")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        RowsColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )


def _open_report(path: Path | None) -> ReportFile | None:
    if path is None:
        return None
    try:
        return ReportFile(path.open("w", newline="", encoding="utf-8"))
    except OSError as exc:
        raise BadRequest(f"cannot write the report {path}: {exc.strerror or exc}") from None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise BadRequest(f"cannot read {path}: {exc.strerror or exc}") from None


def _collected_at(text: str | None) -> dt.datetime:
    if text is None:
        return utcnow()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest("--as-of: give a date (2026-11-30) or a date-time") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    if moment > utcnow():
        raise BadRequest("--as-of: must not be in the future")
    return moment


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except TrothError as exc:
        common.fail(exc.message)
