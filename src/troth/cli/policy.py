"""`troth policy ...`: check the declaration; the version commands live in policy_versions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from troth.cli.common import PolicyOption, policy_file
from troth.policy.checks import find_problems

app = typer.Typer(help="Check, render, publish and compare the policy declaration.")


@app.command()
def check(file: Path | None = PolicyOption) -> None:
    """Report every inconsistency in the declaration, one line each; exit 1 if any."""
    loaded = policy_file(file)
    problems = find_problems(loaded, dt.date.today())
    for problem in problems:
        typer.echo(problem.render(loaded.filename), err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{loaded.filename}: the declaration is consistent")
