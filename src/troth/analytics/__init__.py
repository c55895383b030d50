"""First-party analytics: visits, rollups, unique-visitor sketches and the dashboard's queries.

Importing the package registers the ingest hooks (visit ids before insert, rollups and
sketches after), the job that recomputes a day after erasure and the one that builds the
visit columns of days as they settle.
"""

from __future__ import annotations

from troth.analytics import column_days as _column_days  # noqa: F401  (registers a job)
from troth.analytics import recompute as _recompute  # noqa: F401  (registers a job)
from troth.analytics.rollups import after_insert, before_insert
from troth.collect import ingest

if before_insert not in ingest._before:
    ingest.before_insert(before_insert)
if after_insert not in ingest._after:
    ingest.after_insert(after_insert)
