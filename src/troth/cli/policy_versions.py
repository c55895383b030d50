"""`troth policy render|publish|history|diff`: the published versions of the policy."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from sqlalchemy.orm import Session

from troth.cli.common import PolicyOption, policy_file, runtime
from troth.cli.policy import app
from troth.errors import BadRequest
from troth.policy import service
from troth.policy.diff import diff_declarations, text_diff
from troth.policy.render import render_document, render_markdown
from troth.policy.schema import Declaration

CURRENT = "current"
OutOption = typer.Option(None, "--out", "-o", help="Write privacy.md and privacy.html here.")


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return f"cli:uid-{os.getuid()}"


@contextmanager
def transaction() -> Iterator[Session]:
    running = runtime()
    try:
        with running.transaction() as session:
            yield session
    finally:
        running.close()


@app.command()
def render(
    file: Path | None = PolicyOption,
    out: Path | None = OutOption,
) -> None:
    """Render the public policy from the declaration (Markdown on stdout without --out)."""
    declaration = policy_file(file).declaration
    if out is None:
        typer.echo(render_markdown(declaration), nl=False)
        return
    out.mkdir(parents=True, exist_ok=True)
    (out / "privacy.md").write_text(render_markdown(declaration), encoding="utf-8")
    (out / "privacy.html").write_text(render_document(declaration), encoding="utf-8")
    typer.echo(f"wrote {out / 'privacy.md'} and {out / 'privacy.html'}")


@app.command()
def publish(file: Path | None = PolicyOption) -> None:
    """Publish the declaration as the next public version (it needs a new Last Updated date)."""
    loaded = policy_file(file)
    with transaction() as session:
        version = service.publish(session, loaded, cli_actor(), dt.datetime.now(dt.UTC))
        number, last_updated = version.number, version.last_updated
    typer.echo(f"published version {number} (Last Updated {last_updated.isoformat()})")


@app.command()
def history() -> None:
    """List the published versions, newest first."""
    with transaction() as session:
        versions = service.history(session)
        if not versions:
            typer.echo("no version has been published yet")
        for v in versions:
            published = v.published_at.strftime("%Y-%m-%d %H:%M")
            typer.echo(
                f"{v.number:>4}  Last Updated {v.last_updated.isoformat()}  "
                f"effective {v.effective_date.isoformat()}  "
                f"published {published} by {v.published_by}"
            )


def _parse_side(value: str) -> int | None:
    if value == CURRENT:
        return None
    if value.isdigit() and int(value) > 0:
        return int(value)
    raise BadRequest(f"{value!r}: give a version number or `{CURRENT}`")


def _declaration(side: int | None, file: Path | None) -> tuple[str, Declaration]:
    if side is None:
        loaded = policy_file(file)
        return f"current ({loaded.filename})", loaded.declaration
    with transaction() as session:
        return f"version {side}", service.declaration_of(service.get(session, side))


@app.command()
def diff(
    a: str = typer.Argument(..., help="A version number, or `current` for the file."),
    b: str = typer.Argument(..., help="A version number, or `current` for the file."),
    file: Path | None = PolicyOption,
    text: bool = typer.Option(False, "--text", help="Also print a unified diff of the text."),
) -> None:
    """Show what changed from A to B: values first, then (with --text) the rendered text."""
    a_label, a_declaration = _declaration(_parse_side(a), file)
    b_label, b_declaration = _declaration(_parse_side(b), file)
    changes = diff_declarations(a_declaration, b_declaration)
    count = len(changes)
    summary = "no changes" if not count else f"{count} change{'s' if count > 1 else ''}"
    typer.echo(f"{a_label} -> {b_label}: {summary}")
    for change in changes:
        typer.echo(change.render())
    if text:
        a_text, b_text = render_markdown(a_declaration), render_markdown(b_declaration)
        typer.echo(text_diff(a_text, b_text, a_label, b_label), nl=False)
