"""What an import did: rows added, updated, unchanged and rejected, reasons grouped.

Reasons never hold a value from the file, only field names and rules, so they can be shown,
grouped and written to a report file without spreading anyone's data.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TextIO

FIRST_ROWS = 5


class Outcome(StrEnum):
    added = "added"
    updated = "updated"
    unchanged = "unchanged"
    rejected = "rejected"


@dataclass(frozen=True)
class RowResult:
    number: int
    outcome: Outcome
    reason: str = ""


@dataclass
class Reason:
    count: int = 0
    first_rows: list[int] = field(default_factory=list)


@dataclass
class Report:
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    reasons: dict[str, Reason] = field(default_factory=dict)
    stopped: str | None = None
    """Why the import stopped before the end of the file; what came before it was kept."""
    on_reject: Callable[[int, str], None] | None = None

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    def add(self, results: Iterable[RowResult]) -> None:
        for result in results:
            self.counts[result.outcome] += 1
            if result.outcome is Outcome.rejected:
                self._reject(result.number, result.reason)

    def _reject(self, number: int, reason: str) -> None:
        tally = self.reasons.setdefault(reason, Reason())
        tally.count += 1
        if len(tally.first_rows) < FIRST_ROWS:
            tally.first_rows.append(number)
        if self.on_reject is not None:
            self.on_reject(number, reason)

    def lines(self) -> list[str]:
        counts = ", ".join(f"{self.counts[o]} {o.value}" for o in Outcome)
        lines = [f"{self.rows} rows: {counts}"]
        for reason, tally in sorted(self.reasons.items(), key=lambda item: -item[1].count):
            rows = ", ".join(str(n) for n in tally.first_rows)
            more = ", ..." if tally.count > len(tally.first_rows) else ""
            lines.append(f"  {tally.count} rejected: {reason} (rows {rows}{more})")
        return lines


class ReportFile:
    """Every rejected row number and its reason, as CSV, written as rows are rejected."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._writer = csv.writer(stream)
        self._writer.writerow(["row", "reason"])

    def write(self, number: int, reason: str) -> None:
        self._writer.writerow([number, reason])

    def close(self) -> None:
        self._stream.close()
