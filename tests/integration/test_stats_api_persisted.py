"""CO5: the stats API again, with final visits written to the pair rollups and sketches at once.

The fixture's days are then settled, so repeated reads come from the parts kept in memory
(`analytics/parts.py`); every answer must stay the same as when they are read from raw events.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.test_stats_api import *  # noqa: F403  (the same tests, collected here too)
from troth.analytics import rollups


@pytest.fixture(autouse=True)
def _persist_every_batch() -> Iterator[None]:
    saved = rollups.PERSIST_SECONDS
    rollups.PERSIST_SECONDS = 0.0
    yield
    rollups.PERSIST_SECONDS = saved
