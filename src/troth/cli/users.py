"""`troth user ...`: add, list and disable console users, and enrol their second factor."""

from __future__ import annotations

import sys

import typer

from troth.audit.authorize import authorize_action
from troth.cli.common import runtime
from troth.errors import BadRequest, NotFound
from troth.policy.guard import Actor
from troth.policy.schema import Action
from troth.security import users
from troth.security.clock import utcnow

app = typer.Typer(help="Console users: add, list, disable, and set up a second factor.")

CLI_ACTOR = Actor.system("cli")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first: str = typer.prompt("Password", hide_input=True)
    second: str = typer.prompt("The same password again", hide_input=True)
    if first != second:
        raise BadRequest("the two passwords differ")
    return first


@app.command()
def add(
    email: str,
    role: str = typer.Option(..., "--role", "-r", help="A role the declaration declares."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of standard input."
    ),
) -> None:
    """Add a console user; the password is asked for twice (or read from standard input)."""
    password = _read_password(password_stdin)
    run = runtime()
    guard, declaration = run.guard, run.declaration
    with run.transaction() as session:
        authorize_action(session, guard, CLI_ACTOR, Action.manage_users)
        user = users.create(
            session,
            declaration,
            CLI_ACTOR,
            email=email,
            role=role,
            password=password,
            now=utcnow(),
        )
        typer.echo(f"added {user.email} as {user.role}")


@app.command("list")
def list_users() -> None:
    """Every console user: email, role, second factor, status."""
    run = runtime()
    with run.transaction() as session:
        for user in users.all_users(session):
            factor = "totp" if user.totp_secret else "password only"
            status = "disabled" if user.disabled else "active"
            typer.echo(f"{user.email}\t{user.role}\t{factor}\t{status}")


@app.command()
def disable(email: str) -> None:
    """Disable a console user and end their sessions."""
    run = runtime()
    guard = run.guard
    with run.transaction() as session:
        authorize_action(session, guard, CLI_ACTOR, Action.manage_users)
        user = users.find_by_email(session, email)
        if user is None:
            raise NotFound("no console user has that email")
        users.disable(session, CLI_ACTOR, user)
        typer.echo(f"disabled {user.email}")


@app.command()
def totp(email: str) -> None:
    """Give a user a new authenticator secret; prints it and its otpauth link once."""
    run = runtime()
    guard = run.guard
    with run.transaction() as session:
        authorize_action(session, guard, CLI_ACTOR, Action.manage_users)
        user = users.find_by_email(session, email)
        if user is None:
            raise NotFound("no console user has that email")
        secret, uri = users.enrol_totp(session, CLI_ACTOR, user)
        typer.echo(f"secret: {secret}")
        typer.echo(f"otpauth link: {uri}")
        typer.echo("Add it to an authenticator app now; it is not shown again.")
