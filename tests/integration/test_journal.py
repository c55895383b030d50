"""The collector's journal and ingester: durable before acknowledged, ingested exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import importlib.util
import os
import threading
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pytest
from sqlalchemy import func, select

from troth.collect.event import Event
from troth.collect.ingest import Ingester
from troth.collect.journal import (
    DEFER_AT,
    DEFER_TURNS,
    FREE_FOR_SECONDS,
    FREE_SUFFIX,
    MAX_FREE,
    NEW_SUFFIX,
    OPEN_SUFFIX,
    SEALED_SUFFIX,
    UNSEEDED_OPEN_SUFFIX,
    UNSEEDED_SEALED_SUFFIX,
    JournalWriter,
    Segment,
    drop_unused,
    frame,
    read_records,
    read_segment,
    recycle,
    seed_of,
)
from troth.collect.models import StoredEvent
from troth.collect.uring import SyncRing
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


def written_records(directory: Path) -> list[bytes]:
    """The records of the one segment being written in `directory`."""
    (segment,) = directory.glob(f"*{OPEN_SUFFIX}")
    return list(read_segment(segment))


def sealed_records(directory: Path) -> list[bytes]:
    """The records of the one sealed segment in `directory`."""
    (segment,) = directory.glob(f"*{SEALED_SUFFIX}")
    return list(read_segment(segment))


def stored(runtime: Runtime) -> int:
    with runtime.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(StoredEvent)) or 0)


RING_INSTALLED = importlib.util.find_spec("liburing") is not None
"""The `io-uring` extra (x86-64 Linux): where it is installed, its tests must pass."""


@pytest.fixture(params=["io_uring", "loop thread"])
def use_ring(request: pytest.FixtureRequest) -> bool:
    """Each way a writer syncs: through io_uring, and on the event loop's own thread."""
    if request.param == "io_uring" and not RING_INSTALLED:
        pytest.skip("the io-uring extra is not installed here")
    return bool(request.param == "io_uring")


def test_records_round_trip_and_a_torn_tail_is_ignored() -> None:
    data = frame(b"one") + frame(b"two") + frame(b"three")[:-2]
    assert list(read_records(data)) == [b"one", b"two"]
    corrupt = bytearray(frame(b"one") + frame(b"two"))
    corrupt[-1] ^= 0xFF
    assert list(read_records(bytes(corrupt))) == [b"one"]


def test_appends_of_one_loop_turn_share_one_write_and_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_ring: bool
) -> None:
    writer = JournalWriter(tmp_path, seal_after=60, use_ring=use_ring)
    assert writer.syncs_in_background is use_ring
    writes = 0
    syncs: list[int] = []  # how many records were written at each fsync
    original_write, original_sync = Segment.write, Segment.sync
    original_submit = SyncRing.submit_datasync

    def counting_write(self: Segment, data: bytes) -> None:
        nonlocal writes
        writes += 1
        original_write(self, data)

    def counting_sync(self: Segment) -> None:
        original_sync(self)
        syncs.append(len(written_records(tmp_path)))

    def counting_submit(self: SyncRing, fd: int) -> None:
        original_submit(self, fd)
        syncs.append(len(written_records(tmp_path)))

    monkeypatch.setattr(Segment, "write", counting_write)
    monkeypatch.setattr(Segment, "sync", counting_sync)
    monkeypatch.setattr(SyncRing, "submit_datasync", counting_submit)

    async def main() -> None:
        await asyncio.gather(*(writer.append([event(n)]) for n in range(200)))
        await writer.append([event(200), event(201)])

    run(main())
    writer.close()
    assert (writes, syncs) == (2, [200, 202])  # group commit: the whole turn, then one more
    assert sealed_records(tmp_path) == [event(n) for n in range(202)]


def _batches_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    first: int,
    rounds: int = 1,
    later: tuple[int, ...] = (1,),
    use_ring: bool = True,
) -> list[int]:
    """Records per write when `first` appends share a loop turn and one more comes after
    each of `later` turns (1: after the flush they scheduled has run once); `rounds` times,
    one after the other."""
    writer = JournalWriter(tmp_path, seal_after=60, use_ring=use_ring)
    batches: list[int] = []
    original = Segment.write

    def counting_write(self: Segment, data: bytes) -> None:
        batches.append(len(list(read_records(data, self.seed))))
        original(self, data)

    monkeypatch.setattr(Segment, "write", counting_write)

    async def late(turns: int) -> None:
        for _ in range(turns):
            await asyncio.sleep(0)  # one turn of the loop: the pending flush runs once
        await writer.append([event(first + turns)])

    async def main() -> None:
        for _ in range(rounds):
            appends = [writer.append([event(n)]) for n in range(first)]
            batch = asyncio.gather(*appends, *(late(turns) for turns in later))
            await asyncio.wait_for(batch, 10)  # a flush that kept deferring would hang

    run(main())
    writer.close()
    return batches


def test_a_batch_of_defer_at_requests_waits_one_turn_for_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_ring: bool
) -> None:
    assert _batches_written(tmp_path, monkeypatch, DEFER_AT, use_ring=use_ring) == [DEFER_AT + 1]


def test_each_busy_batch_waits_its_own_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_ring: bool
) -> None:
    assert (
        _batches_written(tmp_path, monkeypatch, DEFER_AT, rounds=2, use_ring=use_ring)
        == [DEFER_AT + 1] * 2
    )


def test_a_busy_batch_waits_while_it_grows_but_at_most_defer_turns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_ring: bool
) -> None:
    growing = tuple(range(1, DEFER_TURNS + 3))  # one more request every turn
    written = _batches_written(tmp_path, monkeypatch, DEFER_AT, later=growing, use_ring=use_ring)
    assert written[0] == DEFER_AT + DEFER_TURNS > DEFER_AT + 1  # more than one turn
    assert sum(written) == DEFER_AT + len(growing)


def test_a_busy_batch_that_stops_growing_is_synced_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_ring: bool
) -> None:
    written = _batches_written(tmp_path, monkeypatch, DEFER_AT, later=(1, 3), use_ring=use_ring)
    assert written == [DEFER_AT + 1, 1]


def test_a_smaller_batch_is_synced_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_ring: bool
) -> None:
    assert _batches_written(tmp_path, monkeypatch, DEFER_AT - 1, use_ring=use_ring) == [
        DEFER_AT - 1,
        1,
    ]


def test_a_failed_fsync_fails_its_whole_batch_and_retires_the_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = Segment.sync
    calls = 0

    def first_one_fails(self: Segment) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError(5, "Input/output error")
        original(self)

    monkeypatch.setattr(Segment, "sync", first_one_fails)
    writer = JournalWriter(tmp_path, seal_after=60, use_ring=False)

    async def main() -> list[BaseException | None]:
        failed = await asyncio.gather(
            *(writer.append([event(n)]) for n in range(5)), return_exceptions=True
        )
        await writer.append([event(5)])
        return list(failed)

    assert all(isinstance(result, OSError) for result in run(main()))  # none acknowledged
    writer.close()
    _failed, second = sorted(tmp_path.glob(f"*{SEALED_SUFFIX}"))
    # A later fsync of the failed file could succeed without the failed batch's pages.
    assert list(read_segment(second)) == [event(5)]


@contextlib.contextmanager
def _mid_fsync(writer: JournalWriter, monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """One append, on a loop of its own, held inside its fsync until the yielded event is set;
    on leaving, the append has been answered."""
    started, release = threading.Event(), threading.Event()
    original = Segment.sync

    def held(self: Segment) -> None:
        started.set()
        release.wait(10)
        original(self)

    monkeypatch.setattr(Segment, "sync", held)
    with ThreadPoolExecutor(max_workers=1) as pool:
        answered = pool.submit(asyncio.run, writer.append([event(1)]))
        assert started.wait(10)
        try:
            yield release
        finally:
            release.set()
        answered.result(10)


def test_a_segment_is_not_sealed_while_an_fsync_on_it_is_in_flight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = JournalWriter(tmp_path, seal_after=60, use_ring=False)
    with _mid_fsync(writer, monkeypatch):
        writer.rotate(force=True)  # the rotation thread's move, during the loop's fsync
        assert list(tmp_path.glob(f"*{SEALED_SUFFIX}")) == []
    writer.close()
    assert sealed_records(tmp_path) == [event(1)]


def test_close_waits_for_an_fsync_in_flight_and_seals_its_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = JournalWriter(tmp_path, seal_after=60, use_ring=False)
    monkeypatch.setattr(writer, "rotate", lambda **_: None)  # only close() may seal
    with _mid_fsync(writer, monkeypatch) as release:
        closing = threading.Thread(target=writer.close)
        closing.start()
        closing.join(0.2)
        assert closing.is_alive()  # waiting for the fsync, not sealing under it
        release.set()
        closing.join(5)
        assert not closing.is_alive()  # woken by the fsync's end, not by its timeout
    assert [p.suffix for p in tmp_path.iterdir()] == [SEALED_SUFFIX]


def test_a_second_live_loop_is_refused_while_the_first_one_flushes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = JournalWriter(tmp_path, seal_after=60, use_ring=False)
    with (
        _mid_fsync(writer, monkeypatch),
        pytest.raises(RuntimeError, match="one event loop at a time"),
    ):
        run(writer.append([event(2)]))
    writer.close()
    assert sealed_records(tmp_path) == [event(1)]


def abandon_loop(writer: JournalWriter, *, flushed: bool = False) -> None:
    """Append event(1) on a loop of its own that stops and closes before the append is
    answered: before its flush runs, or (`flushed`) right after the flush wrote the record
    and started its sync."""

    def abandoned() -> None:
        loop = asyncio.new_event_loop()
        waiting = writer.append([event(1)])

        def start() -> None:
            waiting.send(None)  # runs up to its wait; the flush is scheduled
            if flushed:
                loop.call_soon(loop.stop)  # after the flush
            else:
                loop.stop()  # before it

        loop.call_soon(start)
        loop.run_forever()
        loop.close()
        waiting.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(abandoned).result()


def test_records_left_by_a_closed_loop_are_written_by_the_next_append(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, seal_after=60)
    abandon_loop(writer)
    run(writer.append([event(2)]))
    writer.close()
    assert sealed_records(tmp_path) == [event(1), event(2)]


def test_co3_ingest_moves_sealed_segments_into_the_events_table(runtime: Runtime) -> None:
    ingester = Ingester.for_runtime(runtime)
    writer = JournalWriter(ingester.directory, seal_after=60)
    run(writer.append([event(n) for n in range(25)]))
    assert ingester.run_once() == 0  # still open and its writer alive: not ready
    writer.close()
    assert ingester.run_once() == 25
    assert stored(runtime) == 25
    assert [p.suffix for p in ingester.directory.iterdir()] == [FREE_SUFFIX]  # for reuse
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
    assert [p.suffix for p in ingester.directory.iterdir()] == [FREE_SUFFIX]


def test_a_segment_left_open_by_a_dead_writer_is_taken(runtime: Runtime) -> None:
    ingester = Ingester.for_runtime(runtime)
    orphan = ingester.directory / f"00000000000000000001-999999-000000{OPEN_SUFFIX}"
    seed = seed_of(orphan)
    old_use = frame(event(4), seed + 1) + frame(event(5), seed + 1)  # a recycled file's
    orphan.write_bytes(frame(event(1), seed) + frame(event(2), seed) + old_use)
    assert ingester.run_once() == 2
    assert stored(runtime) == 2


def test_segments_of_the_version_before_seeding_are_still_taken(runtime: Runtime) -> None:
    ingester = Ingester.for_runtime(runtime)
    directory = ingester.directory
    (directory / f"00000000000000000001-999999-000000{UNSEEDED_SEALED_SUFFIX}").write_bytes(
        frame(event(1)) + frame(event(2))
    )
    orphan = directory / f"00000000000000000002-999999-000000{UNSEEDED_OPEN_SUFFIX}"
    orphan.write_bytes(frame(event(3)) + frame(event(4)) + frame(event(5))[:7])
    assert ingester.run_once() == 4
    assert stored(runtime) == 4


def test_a_recycled_segment_gives_back_only_its_new_records(runtime: Runtime) -> None:
    ingester = Ingester.for_runtime(runtime)
    first = JournalWriter(ingester.directory, seal_after=60)
    run(first.append([event(n) for n in range(10)]))  # records of one length: an old
    first.close()  # record would start exactly where a new one ends
    assert ingester.run_once() == 10
    (free,) = ingester.directory.glob(f"*{FREE_SUFFIX}")
    inode = free.stat().st_ino

    second = JournalWriter(ingester.directory, seal_after=60)  # its first segment reuses it
    (reused,) = ingester.directory.glob(f"*{OPEN_SUFFIX}")
    assert reused.stat().st_ino == inode
    assert reused.stat().st_size > 0  # the old records are still in the file
    run(second.append([event(n) for n in range(3)]))
    second.close()
    (segment,) = ingester.directory.glob(f"*{SEALED_SUFFIX}")
    assert list(read_segment(segment)) == [event(n) for n in range(3)]
    # Sealing cut the file to its own records: the first use's are gone from it.
    assert segment.stat().st_size == sum(len(frame(event(n))) for n in range(3))
    # An ingester of the version before seeding would read it as empty: it must not see it.
    legacy = [*ingester.directory.glob("*.open"), *ingester.directory.glob("*.seg")]
    assert legacy == []
    assert ingester.run_once() == 3
    assert stored(runtime) == 13


def _ingested_segment(directory: Path) -> Path:
    """A sealed segment of one record, as the ingester leaves it before recycling."""
    path = directory / f"00000000000000000001-1-000000{SEALED_SUFFIX}"
    path.write_bytes(frame(event(1), seed_of(path)))
    return path


def test_a_spare_made_of_an_old_segment_is_replaced_when_it_waits_too_long(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recycle([_ingested_segment(tmp_path)])
    monkeypatch.setattr("troth.collect.journal.FREE_FOR_SECONDS", 0.1)
    writer = JournalWriter(tmp_path, seal_after=0.02)
    assert writer._spare is not None
    assert writer._spare.recycled
    deadline = time.monotonic() + 5
    while writer._spare is None or writer._spare.recycled:
        assert time.monotonic() < deadline, "the old spare was never replaced"
        time.sleep(0.02)
    spare = writer._spare
    assert spare.path.stat().st_size == 0  # a new, empty file
    assert [p for p in tmp_path.iterdir() if p != spare.path] == []
    writer.close()


def test_the_ingester_deletes_segments_kept_for_reuse_when_it_stops(runtime: Runtime) -> None:
    ingester = Ingester.for_runtime(runtime)
    recycle([_ingested_segment(ingester.directory)])
    stop = threading.Event()
    running = threading.Thread(target=ingester.run_forever, args=(stop, 0.01))
    running.start()
    time.sleep(0.2)
    assert len(list(ingester.directory.glob(f"*{FREE_SUFFIX}"))) == 1  # young: kept
    stop.set()
    running.join(10)
    assert list(ingester.directory.iterdir()) == []


def test_a_segment_its_last_writer_still_holds_is_not_reused(tmp_path: Path) -> None:
    old = _ingested_segment(tmp_path)
    held = os.open(old, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)  # as if its writer had not closed it yet
    try:
        recycle([old])
        segment = Segment(tmp_path)
        assert not segment.recycled
        assert [p.suffix for p in tmp_path.iterdir()] == [OPEN_SUFFIX]
        segment.discard()
    finally:
        os.close(held)


def test_a_stray_file_ending_in_new_is_left_alone(tmp_path: Path) -> None:
    stray = tmp_path / f"notes{NEW_SUFFIX}"
    stray.write_bytes(b"not a segment")
    drop_unused(tmp_path, time.time() + 10 * FREE_FOR_SECONDS)
    assert stray.exists()


def test_ingested_segments_kept_for_reuse_are_capped_and_expire(tmp_path: Path) -> None:
    for n in range(MAX_FREE + 1):
        (tmp_path / f"{n:020d}-1-000000{SEALED_SUFFIX}").write_bytes(frame(event(n)))
        recycle([tmp_path / f"{n:020d}-1-000000{SEALED_SUFFIX}"])
    assert len(list(tmp_path.glob(f"*{FREE_SUFFIX}"))) == MAX_FREE
    assert list(tmp_path.glob(f"*{SEALED_SUFFIX}")) == []  # the one over the cap: deleted
    now = time.time()
    died_naming = tmp_path / f"{time.time_ns():020d}-2-000000{NEW_SUFFIX}"
    died_naming.write_bytes(frame(event(1)))
    os.utime(died_naming, (now - 2 * FREE_FOR_SECONDS,) * 2)  # a recycled file's old time
    drop_unused(tmp_path, now)
    assert len(list(tmp_path.iterdir())) == MAX_FREE + 1  # none old enough yet
    drop_unused(tmp_path, now + FREE_FOR_SECONDS + 1)
    assert list(tmp_path.iterdir()) == []


def test_an_idle_segment_is_sealed_without_more_traffic(tmp_path: Path, use_ring: bool) -> None:
    writer = JournalWriter(tmp_path, seal_after=0.05, use_ring=use_ring)

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
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_ring: bool
) -> None:
    def disk_full(self: object, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("troth.collect.journal.Segment.write", disk_full)
    writer = JournalWriter(tmp_path, seal_after=60, use_ring=use_ring)

    async def main() -> list[BaseException | None]:
        results = await asyncio.gather(
            *(writer.append([event(n)]) for n in range(5)), return_exceptions=True
        )
        return list(results)

    results = run(main())
    assert all(isinstance(r, OSError) for r in results)
    writer.close()
