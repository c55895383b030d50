"""`troth audit ...`: check the audit log's chain and show its latest entries."""

from __future__ import annotations

import typer

from troth.audit import service
from troth.audit.chain import canonical_time
from troth.audit.models import AuditEntry
from troth.cli import common

app = typer.Typer(help="Check and read the tamper-evident audit log.")


@app.command()
def verify(
    batch_size: int = typer.Option(
        service.VERIFY_BATCH, "--batch-size", min=1, help="Entries read per query."
    ),
) -> None:
    """Walk the whole chain; exit 1 naming the first entry that was changed, removed or moved."""
    runtime = common.runtime()
    try:
        report = service.verify(runtime.sessions, batch_size)
    finally:
        runtime.close()
    if not report.intact:
        common.fail(report.summary())
    typer.echo(report.summary())


@app.command()
def tail(
    count: int = typer.Option(20, "-n", "--count", min=1, help="How many entries."),
) -> None:
    """Print the latest entries, oldest first (ids and category names only)."""
    runtime = common.runtime()
    try:
        with runtime.transaction() as session:
            lines = [describe(entry) for entry in service.recent(session, count)]
    finally:
        runtime.close()
    for line in lines:
        typer.echo(line)


def describe(entry: AuditEntry) -> str:
    parts = [str(entry.id), canonical_time(entry.at), entry.actor, entry.action, entry.outcome]
    for label, value in (
        ("purpose", entry.purpose),
        ("subject", entry.subject_id),
        ("categories", entry.categories),
    ):
        if value:
            parts.append(f"{label}={value}")
    return " ".join(parts) + f" - {entry.reason}"
