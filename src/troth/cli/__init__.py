"""The `troth` command: one Typer app, a module per group of commands."""

from __future__ import annotations

import sys

import typer

from troth.audit.logfilter import install_log_scrubbing
from troth.cli import analytics, audit, keys, policy, server, users
from troth.cli import people as people_cli
from troth.cli import policy_versions as _versions  # noqa: F401  (adds its commands to policy.app)
from troth.errors import TrothError

app = typer.Typer(
    name="troth",
    help="Troth keeps your privacy policy in code and runs what it declares.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
server.register(app)
app.add_typer(policy.app, name="policy")
app.add_typer(audit.app, name="audit")
app.add_typer(keys.app, name="keys")
app.add_typer(users.app, name="user")
app.add_typer(people_cli.app, name="people")
app.add_typer(analytics.app, name="analytics")


def main() -> None:
    install_log_scrubbing()
    try:
        app()
    except TrothError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
