"""`troth init`, `troth migrate`, `troth serve` and `troth demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from troth import demo as demo_data
from troth import migrate as migrations
from troth.cli import common
from troth.config import DEFAULT_CONFIG_FILE, Settings
from troth.db import make_engine
from troth.errors import Conflict
from troth.keys import ensure_master_key
from troth.policy.example import EXAMPLE_POLICY
from troth.server import serve as run_server


def init(
    directory: Annotated[
        Path, typer.Argument(help="Where to write troth.toml and policy.yaml.")
    ] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> None:
    """Write a config and an example policy declaration, and create the database."""
    config_path = directory / DEFAULT_CONFIG_FILE
    policy_path = directory / "policy.yaml"
    for path in (config_path, policy_path):
        if path.exists() and not force:
            raise Conflict(f"{path} exists; use --force to overwrite it")
    directory.mkdir(parents=True, exist_ok=True)
    config_path.write_text(
        '# Troth settings. TROTH_* environment variables override these.\n'
        'data_dir = "troth-data"\n'
        'policy_file = "policy.yaml"\n'
        '# database_url = "postgresql+psycopg://troth@localhost/troth"\n'
        'host = "127.0.0.1"\n'
        "port = 8000\n"
    )
    policy_path.write_text(EXAMPLE_POLICY.read_text())
    typer.echo(f"wrote {config_path} and {policy_path}")
    _ensure_master_key(Settings(data_dir=directory / "troth-data"))
    typer.echo("next: edit policy.yaml, then `troth policy check` and `troth policy publish`")


def _ensure_master_key(settings: Settings) -> None:
    created = ensure_master_key(settings)
    if created:
        typer.echo(f"created the master key ring {created} (keep it out of data backups)")


def migrate() -> None:
    """Bring the database to the newest schema."""
    settings = common.settings()
    engine = make_engine(settings.resolved_database_url)
    migrations.upgrade(engine)
    engine.dispose()
    typer.echo("database is up to date")


def serve() -> None:
    """Serve Troth (and run its background jobs) until interrupted."""
    run_server(common.runtime())


def demo(
    data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its data.")] = Path(
        "troth-demo"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Serve Troth on SQLite with generated demo data."""
    settings = Settings(
        data_dir=data_dir, policy_file=data_dir / "policy.yaml", database_url="", port=port
    )
    _ensure_master_key(settings)
    typer.echo(f"Preparing the demo in {data_dir} (months of traffic, the first time only)...")
    with typer.progressbar(length=demo_data.DEMO_DAYS, label="Demo traffic, days") as bar:
        demo = demo_data.prepare(settings, progress=lambda done: bar.update(done - bar.pos))
    base = settings.base_url
    typer.echo("Troth demo is starting. Open:")
    for label, path in demo_data.PAGES:
        typer.echo(f"  {label:<22} {base}{path}")
    typer.echo(f"Console sign-in: {demo.admin_email} / {demo.admin_password} (new on every run)")
    run_server(demo.runtime)


def register(app: typer.Typer) -> None:
    for command in (init, migrate, serve, demo):
        app.command()(command)
