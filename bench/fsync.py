"""What one durable batch costs the disk and the CPU: append-and-fdatasync against overwriting
blocks a file already has (a recycled journal segment), one and two writers at once.

Each writer process writes 3,000-byte batches (about five page views) and syncs each one,
for `--seconds`; the figures are syncs per second over all writers, CPU (user + system) per
sync, and the mean wait per sync. The files go in `--dir` (default: a temporary folder on
the disk that holds /tmp), so point it at the data directory's disk to measure that one.

Run: .venv/bin/python bench/fsync.py [--seconds 3] [--dir PATH]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import tempfile
import time
from multiprocessing.queues import Queue
from pathlib import Path

BATCH = b"x" * 3000
SEGMENT_BYTES = 64 << 20
MODES = {
    "append": "append, then fdatasync (a new segment)",
    "overwrite": "overwrite, then fdatasync (a recycled segment)",
    "overwrite-dsync": "overwrite with RWF_DSYNC (one system call)",
}


def writer(path: Path, mode: str, seconds: float, out: Queue[tuple[int, float]]) -> None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    if mode != "append":  # a file whose blocks exist, as a recycled segment's do
        os.write(fd, bytes(SEGMENT_BYTES))
        os.fsync(fd)
    syncs, offset = 0, 0
    before = resource.getrusage(resource.RUSAGE_SELF)
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        if mode == "overwrite-dsync":
            os.pwritev(fd, [BATCH], offset, os.RWF_DSYNC)
        else:
            os.pwrite(fd, BATCH, offset)
            os.fdatasync(fd)
        offset += len(BATCH)
        syncs += 1
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    os.close(fd)
    path.unlink()
    out.put((syncs, cpu))


def measure(directory: Path, mode: str, writers: int, seconds: float) -> str:
    out: Queue[tuple[int, float]] = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=writer, args=(directory / f"w{n}", mode, seconds, out))
        for n in range(writers)
    ]
    for proc in procs:
        proc.start()
    results = [out.get() for _ in procs]
    for proc in procs:
        proc.join()
    syncs = sum(r[0] for r in results)
    cpu = sum(r[1] for r in results)
    return (
        f"| {MODES[mode]} | {writers} | {syncs / seconds:,.0f} | {cpu / syncs * 1e6:.0f} "
        f"| {seconds * writers / syncs * 1e3:.3f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="troth-fsync-", dir=args.dir) as tmp:
        print("| batch written as | writers | syncs/s | CPU µs per sync | ms per sync |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for mode in MODES:
            for writers in (1, 2):
                print(measure(Path(tmp), mode, writers, args.seconds), flush=True)


if __name__ == "__main__":
    main()
