"""Instructions counted by valgrind's callgrind, for the `*_instructions.py` benches.

A bench runs itself again as a child under callgrind (`counts`); the child marks what is
counted: `zero()` before it, `dump()` after it, each dump one figure. Needs `apt-get install
-y valgrind`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def command_line(doc: str | None) -> tuple[list[str], bool]:
    """The `--code` directories to count (this checkout's `src` by default), and whether this
    process is the child that counts."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n")[0])
    parser.add_argument("--code", action="append", help="a src directory to import troth from")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    return args.code or [str(Path(__file__).resolve().parents[1] / "src")], args.child


def zero() -> None:
    """In the child: forget what was counted so far."""
    _control("-z")


def dump(name: str) -> None:
    """In the child: one figure, what was counted since the last zero or dump."""
    _control("-d", name)


def _control(*args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(os.getpid())], check=True,
                   capture_output=True)  # fmt: skip


def counts(script: str, code: str, dumps: int, env: dict[str, str] | None = None) -> list[int]:
    """Run `script --child` under callgrind, importing troth from `code`: the instructions
    of each of its first `dumps` dumps."""
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "callgrind.out"
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
             script, "--child"],
            check=True, capture_output=True, env={**os.environ, **(env or {}), "PYTHONPATH": code},
        )  # fmt: skip
        return [_summary(Path(f"{out}.{n}")) for n in range(1, dumps + 1)]


def _summary(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise SystemExit(f"no summary in {path}")
