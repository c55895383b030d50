"""Instructions the ingester spends giving 20k events their visits, and building the final
visits' columns: counted by valgrind's callgrind, so the figure does not move with whatever
else the machine runs (a timing here moves by a third from minute to minute). Since batches
are assigned by sorting them (`sorted_batch.py`), "assign" also builds the columns of the
visits final on arrival; "columns" is the rest, the final visits held as objects.

    .venv/bin/python bench/assign_instructions.py
    .venv/bin/python bench/assign_instructions.py --code <an older checkout>/src --code src

Each `--code` directory is imported in a process of its own under callgrind (needs
`apt-get install -y valgrind`); it uses only `sessions.assign` and `columns.from_visits`.
Start-up, the database and the traffic are built before the count starts.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import callgrind

EVENTS = 20_000
BATCH = 10_000


def measure() -> None:
    """The child: assign the events in batches, then build the day's final visits' columns."""
    from sqlalchemy.orm import sessionmaker

    from bench.dashboard import DAYS, END, Traffic
    from troth import collector, migrate
    from troth.analytics import columns, sessions
    from troth.db import make_engine

    with tempfile.TemporaryDirectory() as work:
        engine = make_engine(f"sqlite:///{Path(work) / 'assign.db'}")
        migrate.upgrade(engine)
        rows = Traffic(30_000 * DAYS, seed=11).day(END)[:EVENTS]
        batches = [[dict(r) for r in rows[i : i + BATCH]] for i in range(0, EVENTS, BATCH)]
        collector.tune()
        finals = []
        with sessionmaker(engine)() as session, session.begin():
            sessions.assign(session, batches[0][:1])  # the site's row, before the count
            callgrind.zero()
            for batch in batches:
                finals += [visit for _, visit in sessions.assign(session, batch).final]
            callgrind.dump("assign")
            by_day: dict[Any, list[Any]] = {}
            for visit in finals:
                by_day.setdefault(visit.day, []).append(visit)
            for day, found in by_day.items():
                columns.from_visits(day, found, columns.Vocabulary())
            callgrind.dump("columns")
            session.rollback()
        print(f"{len(finals)} final visits as objects")


def main() -> None:
    codes, child = callgrind.command_line(__doc__)
    if child:
        measure()
        return
    print(f"| code | assign {EVENTS:,} events (M instructions) | their final visits' columns "
          "| both |")  # fmt: skip
    print("| --- | ---: | ---: | ---: |")
    for code in codes:
        assign, built = callgrind.counts(__file__, code, 2)
        print(f"| {code} | {assign / 1e6:,.0f} | {built / 1e6:,.0f} | "
              f"{(assign + built) / 1e6:,.0f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
