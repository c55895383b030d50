"""The collector's journal and ingester: durable before acknowledged, ingested exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pytest
from sqlalchemy import func, select

from troth.collect.event import Event
from troth.collect.ingest import Ingester
from troth.collect.journal import (
    OPEN_SUFFIX,
    SEALED_SUFFIX,
    JournalWriter,
    Segment,
    frame,
    read_records,
)
from troth.collect.models import StoredEvent
from troth.runtime import Runtime

T = TypeVar("T")
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def event(n: int) -> bytes:
    return orjson.dumps(
        Event(
            site="lumeninsights.example",
            ts=NOW + dt.timedelta(seconds=n),
            kind="pageview",
            path=f"/page/{n}",
            visitor_key=f"{n:032x}",
            cookieless=True,
        )
    )


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a thread of its own: the browser tests keep a loop running in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def stored(runtime: Runtime) -> int:
    with runtime.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(StoredEvent)) or 0)


def test_records_round_trip_and_a_torn_tail_is_ignored() -> None:
    data = frame(b"one") + frame(b"two") + frame(b"three")[:-2]
    assert list(read_records(data)) == [b"one", b"two"]
    corrupt = bytearray(frame(b"one") + frame(b"two"))
    corrupt[-1] ^= 0xFF
    assert list(read_records(bytes(corrupt))) == [b"one"]


def test_appends_of_one_loop_turn_share_one_write_and_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = JournalWriter(tmp_path, seal_after=60)
    syncs: list[int] = []  # how many records were on disk at each fsync
    original = Segment.sync

    def counting(self: Segment) -> None:
        original(self)
        syncs.append(len(list(read_records(self.path.read_bytes()))))

    monkeypatch.setattr(Segment, "sync", counting)

    async def main() -> None:
        await asyncio.gather(*(writer.append([event(n)]) for n in range(200)))
        await writer.append([event(200), event(201)])

    run(main())
    writer.close()
    assert syncs == [200, 202]  # group commit: one fsync for the whole turn, then one more
    (segment,) = tmp_path.glob(f"*{SEALED_SUFFIX}")
    assert list(read_records(segment.read_bytes())) == [event(n) for n in range(202)]


def test_no_request_is_answered_before_the_fsync_that_covers_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = JournalWriter(tmp_path, seal_after=60)
    requests: list[asyncio.Future[None]] = []
    answered_at_sync: list[int] = []
    original = Segment.sync

    def watching(self: Segment) -> None:
        answered_at_sync.append(sum(request.done() for request in requests))
        original(self)

    monkeypatch.setattr(Segment, "sync", watching)

    async def main() -> None:
        for wave in range(3):
            requests.extend(
                asyncio.ensure_future(writer.append([event(10 * wave + n)])) for n in range(10)
            )
            await asyncio.gather(*requests)

    run(main())
    writer.close()
    assert answered_at_sync == [0, 10, 20]  # each wave waited for its own fsync


def test_co3_ingest_moves_sealed_segments_into_the_events_table(runtime: Runtime) -> None:
    ingester = Ingester.for_runtime(runtime)
    writer = JournalWriter(ingester.directory, seal_after=60)
    run(writer.append([event(n) for n in range(25)]))
    assert ingester.run_once() == 0  # still open and its writer alive: not ready
    writer.close()
    assert ingester.run_once() == 25
    assert stored(runtime) == 25
    assert list(ingester.directory.iterdir()) == []
    with runtime.transaction() as session:
        row = session.scalars(select(StoredEvent).order_by(StoredEvent.id)).first()
    assert row is not None
    assert row.path == "/page/0"
    assert row.ts == NOW or row.ts.replace(tzinfo=dt.UTC) == NOW


def test_a_segment_ingested_but_not_deleted_is_not_inserted_twice(runtime: Runtime) -> None:
    ingester = Ingester.for_runtime(runtime)
    writer = JournalWriter(ingester.directory, seal_after=60)
    run(writer.append([event(n) for n in range(10)]))
    writer.close()
    (segment,) = ingester.directory.glob(f"*{SEALED_SUFFIX}")
    saved = segment.read_bytes()
    assert ingester.run_once() == 10
    segment.write_bytes(saved)  # as if the process died between commit and unlink
    assert ingester.run_once() == 0
    assert stored(runtime) == 10
    assert not segment.exists()


def test_a_segment_left_open_by_a_dead_writer_is_taken(runtime: Runtime) -> None:
    ingester = Ingester.for_runtime(runtime)
    orphan = ingester.directory / f"00000000000000000001-999999-000000{OPEN_SUFFIX}"
    orphan.write_bytes(frame(event(1)) + frame(event(2)) + frame(event(3))[:7])
    assert ingester.run_once() == 2
    assert stored(runtime) == 2


def test_an_idle_segment_is_sealed_without_more_traffic(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, seal_after=0.05)

    async def main() -> None:
        await writer.append([event(1)])
        await asyncio.sleep(0.3)

    run(main())
    files = list(tmp_path.iterdir())
    assert [p.suffix for p in files if p.suffix == SEALED_SUFFIX] == [SEALED_SUFFIX]
    spares = [p for p in files if p.suffix == OPEN_SUFFIX]
    assert all(p.stat().st_size == 0 for p in spares)  # the next segment, ready and empty
    writer.close()
    assert [p.suffix for p in tmp_path.iterdir()] == [SEALED_SUFFIX]


def test_a_failed_write_fails_every_waiting_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(self: object, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("troth.collect.journal.Segment.write", disk_full)
    writer = JournalWriter(tmp_path, seal_after=60)

    async def main() -> list[BaseException | None]:
        results = await asyncio.gather(
            *(writer.append([event(n)]) for n in range(5)), return_exceptions=True
        )
        return list(results)

    results = run(main())
    assert all(isinstance(r, OSError) for r in results)
