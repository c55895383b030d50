"""What an ingester holds between two watermark writes (`rollups.persist`), per database."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import TYPE_CHECKING

from troth.analytics.visits import Visit

if TYPE_CHECKING:
    from troth.analytics.sessions import SiteVisits


class Pending:
    def __init__(self) -> None:
        self.watermarks: dict[str, SiteVisits] = {}
        """Per site, the open visits whose watermark the next write stores."""
        self.epochs: dict[str, int] = {}
        """The epoch each site's pending writes belong to."""
        self.finals: dict[tuple[str, int], list[Visit]] = {}
        """Visits that became final since the last write, per site and epoch."""
        self.persisted_at = time.monotonic()

    def take_finals(self) -> dict[str, list[Visit]]:
        out: dict[str, list[Visit]] = defaultdict(list)
        for (site, _), visits in self.finals.items():
            out[site] += visits
        self.finals.clear()
        return out

    def drop_epochs_except(self, site: str, epoch: int) -> None:
        """What an earlier epoch held (the site's analytics were rebuilt) is never written:
        its final visits, and the watermark that would say they were."""
        for pair in [k for k in self.finals if k[0] == site and k[1] != epoch]:
            del self.finals[pair]
        if self.epochs.get(site, epoch) != epoch:
            self.watermarks.pop(site, None)
        self.epochs[site] = epoch
