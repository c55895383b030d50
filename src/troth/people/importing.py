"""`troth people import`: combine rows from a declared source with people's records (CO2, US1).

Rows are matched to people by the blind index of their email. A third-party source only
enriches people who exist; a `given` file (what people gave, like a sign-up form's export)
also creates them. Each value is merged by the provenance rule: what a person gave wins over
a third party, and newer third-party data replaces older. Every matched person is put to the
guard for the import's purpose, so a person who objected to combining, or who awaits a
guardian, is skipped with the guard's reason. Rows are committed a batch at a time: a
failure keeps the batches before it and says where it stopped.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.exc import SQLAlchemyError

from troth.errors import TrothError
from troth.people import repository
from troth.people.context import PeopleContext
from troth.people.import_batch import Batch, ImportJob
from troth.people.import_report import Outcome, Report
from troth.people.import_rows import Row, Unreadable, open_rows
from troth.runtime import Runtime


def run_import(
    runtime: Runtime,
    ctx: PeopleContext,
    job: ImportJob,
    report: Report,
    rows: Iterator[Row] | None = None,
) -> Report:
    """Import the rows (by default the job's file) into `report`.

    BadRequest when the file cannot be read at all (see import_rows.open_rows)."""
    rows = open_rows(job.path) if rows is None else rows
    counted = False
    try:
        for batch in _batches(rows, job.batch_rows):
            if not _commit(runtime, ctx, job, batch, report):
                return report
            if not counted and report.counts[Outcome.added]:
                counted = _refresh_statistics(runtime)
    except Unreadable as exc:
        report.stopped = f"stopped: {exc.message}; the rows before it were saved"
    return report


def _refresh_statistics(runtime: Runtime) -> bool:
    """Once the first people are added, so the look-ups of the batches after them use the
    blind index (see repository.refresh_statistics). Only speed depends on it: a failure is
    left for the next batch to meet."""
    try:
        with runtime.transaction() as session:
            repository.refresh_statistics(session)
    except SQLAlchemyError:
        pass
    return True


def _batches(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    """Batches of rows; a read error is raised only after the rows read before it."""
    batch: list[Row] = []
    try:
        for row in rows:
            batch.append(row)
            if len(batch) >= size:
                yield batch
                batch = []
    except Unreadable:
        if batch:
            yield batch
        raise
    if batch:
        yield batch


def _commit(
    runtime: Runtime, ctx: PeopleContext, job: ImportJob, rows: list[Row], report: Report
) -> bool:
    try:
        with runtime.transaction() as session:
            results = Batch(session, ctx, job).run(rows)
    except (SQLAlchemyError, TrothError) as exc:
        why = exc.message if isinstance(exc, TrothError) else type(exc).__name__
        report.stopped = f"stopped at row {rows[0].number}: {why}; the rows before it were saved"
        return False
    report.add(sorted(results, key=lambda result: result.number))
    return True
