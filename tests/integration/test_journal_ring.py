"""The journal's syncs through io_uring: the event loop goes on while one is in flight."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.test_journal import (
    RING_INSTALLED,
    abandon_loop,
    event,
    run,
    sealed_records,
    written_records,
)
from troth.collect.journal import SEALED_SUFFIX, JournalWriter, read_segment
from troth.collect.uring import SyncRing, open_ring

pytestmark = pytest.mark.skipif(not RING_INSTALLED, reason="the io-uring extra is not installed")


def test_io_uring_is_available_here() -> None:
    assert open_ring() is not None  # else every writer here syncs on its loop's thread


def test_where_io_uring_cannot_be_set_up_the_loops_thread_syncs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(ring: SyncRing) -> None:
        raise PermissionError(1, "Operation not permitted")  # io_uring_disabled, seccomp

    monkeypatch.setattr(SyncRing, "__init__", refused)
    assert open_ring() is None
    writer = JournalWriter(tmp_path, seal_after=60)
    assert not writer.syncs_in_background
    run(writer.append([event(1)]))
    writer.close()
    assert sealed_records(tmp_path) == [event(1)]


def test_the_loop_goes_on_while_a_sync_is_in_flight_and_the_next_batch_waits_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = JournalWriter(tmp_path, seal_after=60)
    assert writer.syncs_in_background
    held: list[Callable[[], None]] = []  # submissions of syncs, started when a test says
    submit = SyncRing.submit_datasync
    monkeypatch.setattr(
        SyncRing, "submit_datasync", lambda ring, fd: held.append(lambda: submit(ring, fd))
    )

    async def turns(count: int) -> None:
        for _ in range(count):
            await asyncio.sleep(0)

    async def main() -> None:
        first = asyncio.ensure_future(writer.append([event(1)]))
        await turns(3)
        assert len(held) == 1  # written, and its sync on its way
        second = asyncio.ensure_future(writer.append([event(2)]))
        await turns(20)  # this coroutine runs: the loop is not held by the sync
        assert not first.done()
        assert not second.done()
        assert written_records(tmp_path) == [event(1)]  # one sync in flight at a time
        held.pop()()
        await asyncio.wait_for(first, 5)
        assert not second.done()
        while not held:  # the sync's end flushed the batch that waited
            await asyncio.sleep(0.001)
        assert written_records(tmp_path) == [event(1), event(2)]
        held.pop()()
        await asyncio.wait_for(second, 5)

    run(main())
    writer.close()
    assert sealed_records(tmp_path) == [event(1), event(2)]


def test_a_sync_the_kernel_fails_fails_its_whole_batch_and_retires_the_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    submit = SyncRing.submit_datasync
    calls = 0

    def first_one_fails(ring: SyncRing, fd: int) -> None:
        nonlocal calls
        calls += 1
        submit(ring, -1 if calls == 1 else fd)  # the kernel answers EBADF through the ring

    monkeypatch.setattr(SyncRing, "submit_datasync", first_one_fails)
    writer = JournalWriter(tmp_path, seal_after=60)

    async def main() -> list[BaseException | None]:
        failed = await asyncio.gather(
            *(writer.append([event(n)]) for n in range(5)), return_exceptions=True
        )
        await writer.append([event(5)])
        return list(failed)

    results = run(main())
    assert all(isinstance(result, OSError) and result.errno == 9 for result in results)
    writer.close()
    _failed, second = sorted(tmp_path.glob(f"*{SEALED_SUFFIX}"))
    assert list(read_segment(second)) == [event(5)]


def test_close_waits_here_for_a_sync_whose_loop_is_gone(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, seal_after=60)
    abandon_loop(writer, flushed=True)
    started = time.monotonic()
    writer.close()
    assert time.monotonic() - started < 5  # not close()'s 30 s wait for the loop
    assert sealed_records(tmp_path) == [event(1)]


def test_a_new_loop_takes_over_after_a_sync_in_flight_on_a_closed_one(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, seal_after=60)
    abandon_loop(writer, flushed=True)
    run(writer.append([event(2)]))  # its loop reads the ring's descriptor now
    run(writer.append([event(3)]))
    writer.close()
    assert sealed_records(tmp_path) == [event(1), event(2), event(3)]


def test_a_segment_is_not_sealed_while_its_sync_is_in_flight_through_the_ring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = JournalWriter(tmp_path, seal_after=60)
    held: list[Callable[[], None]] = []
    submit = SyncRing.submit_datasync
    monkeypatch.setattr(
        SyncRing, "submit_datasync", lambda ring, fd: held.append(lambda: submit(ring, fd))
    )

    async def main() -> None:
        answered = asyncio.ensure_future(writer.append([event(1)]))
        while not held:
            await asyncio.sleep(0)
        writer.rotate(force=True)  # the rotation thread's move, during the sync
        assert list(tmp_path.glob(f"*{SEALED_SUFFIX}")) == []
        held.pop()()
        await asyncio.wait_for(answered, 5)

    run(main())
    writer.rotate(force=True)
    assert sealed_records(tmp_path) == [event(1)]  # sealed once its sync had ended
    writer.close()


def test_a_sync_the_ring_cannot_start_fails_its_batch_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(ring: SyncRing, fd: int) -> None:
        raise TypeError("an unexpected answer from the binding")

    monkeypatch.setattr(SyncRing, "submit_datasync", broken)
    writer = JournalWriter(tmp_path, seal_after=60)

    async def main() -> BaseException | None:
        results = await asyncio.wait_for(
            asyncio.gather(writer.append([event(1)]), return_exceptions=True), 5
        )
        return results[0]

    failed = run(main())  # answered, not left waiting
    assert isinstance(failed, OSError)  # what the endpoint answers with a 503
    writer.close()
