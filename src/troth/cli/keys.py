"""`troth keys ...`: rotate the master key and report on the key store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from troth.cli import common
from troth.errors import TrothError
from troth.keys import MasterKey, open_key_store, rotate_master

app = typer.Typer(help="Master key rotation and the per-person key store.", no_args_is_help=True)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except TrothError as exc:
        common.fail(exc.message)


@app.command()
def status() -> None:
    """Count the person keys and name the master keys in the ring and in use."""
    with _one_line_errors(), open_key_store(common.settings()) as store:
        counts = store.status()
        ring = store.ring.current()
        store.check_ring()
    typer.echo(f"key store: {store.path}")
    typer.echo(f"master key ring: {store.ring.describe} ({', '.join(ring.ids)}; newest first)")
    typer.echo(f"person keys: {counts.live} live, {counts.destroyed} destroyed")
    for master_id, count in sorted(counts.by_master.items()):
        typer.echo(f"  under master key {master_id}: {count}")


@app.command()
def rotate(
    batch_size: int = typer.Option(500, min=1, help="Keys re-wrapped per transaction."),
) -> None:
    """Re-wrap every person key under a new master key, while Troth keeps running."""
    with _one_line_errors(), open_key_store(common.settings()) as store:
        total = store.status().live
        with typer.progressbar(length=total, label="re-wrapping person keys") as bar:
            done = rotate_master(store, batch_size, bar.update)
        older = store.ring.current().ids[1:] if store.ring.path is None else ()
    typer.echo(f"re-wrapped {done.rewrapped} person keys under master key {done.newest}")
    if done.dropped:
        typer.echo(f"dropped master keys {', '.join(done.dropped)} from {store.ring.describe}")
    elif older:
        typer.echo(f"now remove {', '.join(older)} from TROTH_MASTER_KEY")
    else:
        typer.echo(
            "TROTH_MASTER_KEY holds one key: put a new one first (troth keys generate) "
            "and run this again to change it"
        )


@app.command()
def generate() -> None:
    """Print a new master key entry (ID:BASE64) to put first in TROTH_MASTER_KEY."""
    typer.echo(MasterKey.generate().entry())
