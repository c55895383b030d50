"""What every command needs: settings, a runtime, and one-line failures."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import ValidationError

from troth.config import Settings
from troth.errors import BadRequest
from troth.policy.loader import LoadedPolicy, load_policy
from troth.runtime import Runtime


def settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise BadRequest(f"settings: {where}: {first['msg']}") from None


def runtime() -> Runtime:
    return Runtime.start(settings())


def policy_file(path: Path | None) -> LoadedPolicy:
    return load_policy(path or settings().policy_file)


PolicyOption = typer.Option(None, "--file", "-f", help="The declaration (default: from settings).")


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)
