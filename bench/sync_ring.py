"""What one journal sync costs the CPU and the clock: fdatasync on the calling thread, against
the same sync through io_uring, its end waited for on an eventfd registered with the ring
(`troth.collect.uring`) or on the ring's own descriptor.

Each way writes a 500-byte record into a file whose blocks exist (a recycled segment) and
syncs it, `--syncs` times, one sync in flight, as a journal writer does; the ways take turns,
each round starting with the next one. CPU is the whole process's (every thread, the
kernel's io_uring workers included), per sync; the figures are medians over the rounds.

Run: .venv/bin/python bench/sync_ring.py [--rounds 9] [--syncs 1500] [--dir PATH]
"""

from __future__ import annotations

import argparse
import os
import select
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from troth.collect.uring import SyncRing

try:
    import liburing
except ImportError:
    sys.exit("the io-uring extra is not installed: pip install -e '.[io-uring]'")

RECORD = b"x" * 500


def on_the_thread(fd: int, syncs: int) -> None:
    for n in range(syncs):
        os.pwrite(fd, RECORD, n * len(RECORD))
        os.fdatasync(fd)


def through_the_ring(fd: int, syncs: int) -> None:
    ring = SyncRing()
    poll = select.epoll()
    poll.register(ring.fileno(), select.EPOLLIN)
    for n in range(syncs):
        os.pwrite(fd, RECORD, n * len(RECORD))
        ring.submit_datasync(fd)
        poll.poll()  # as the event loop does: results are read once the eventfd is readable
        while not ring.results():
            poll.poll()
    poll.close()


def through_the_ring_and_its_descriptor(fd: int, syncs: int) -> None:
    ring, cqe = liburing.Ring(), liburing.Cqe()
    liburing.io_uring_queue_init(8, ring)
    poll = select.epoll()
    poll.register(ring.ring_fd, select.EPOLLIN)
    for n in range(syncs):
        os.pwrite(fd, RECORD, n * len(RECORD))
        sqe = liburing.io_uring_get_sqe(ring)
        liburing.io_uring_prep_fsync(sqe, fd, liburing.IORING_FSYNC_DATASYNC)
        liburing.io_uring_submit(ring)
        while not liburing.io_uring_cq_ready(ring):
            poll.poll()
        liburing.io_uring_peek_cqe(ring, cqe)
        _ = cqe[0].res
        liburing.io_uring_cq_advance(ring, 1)
    poll.close()
    liburing.io_uring_queue_exit(ring)


WAYS: dict[str, Callable[[int, int], None]] = {
    "fdatasync on the calling thread": on_the_thread,
    "io_uring, waited on an eventfd (Troth)": through_the_ring,
    "io_uring, waited on its own descriptor": through_the_ring_and_its_descriptor,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--syncs", type=int, default=1500)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in WAYS}
    with tempfile.TemporaryDirectory(dir=args.dir) as work:
        path = Path(work) / "segment"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.write(fd, bytes(args.syncs * len(RECORD) + 4096))
        os.fsync(fd)
        names = list(WAYS)
        for number in range(args.rounds):
            # Each way in each place in turn: the way that follows another ran slower here,
            # whichever way it was.
            for name in names[number % len(names) :] + names[: number % len(names)]:
                way = WAYS[name]
                cpu, wall = time.process_time(), time.perf_counter()
                way(fd, args.syncs)
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                figures[name].append((cpu / args.syncs * 1e6, wall / args.syncs * 1e6))
        os.close(fd)
    print(f"{args.rounds} rounds of {args.syncs} syncs; medians per sync")
    print("| way | CPU µs | wall µs |")
    print("| --- | ---: | ---: |")
    for name, rows in figures.items():
        cpu = statistics.median(row[0] for row in rows)
        wall = statistics.median(row[1] for row in rows)
        print(f"| {name} | {cpu:.1f} | {wall:.1f} |")


if __name__ == "__main__":
    main()
