"""What an ingester holds between two watermark writes (`rollups.persist`), per database."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import TYPE_CHECKING

from troth.analytics.visits import Visit

if TYPE_CHECKING:
    from troth.analytics.sessions import SiteVisits
    from troth.analytics.sorted_batch import FinalBlock


class Pending:
    def __init__(self) -> None:
        self.watermarks: dict[str, SiteVisits] = {}
        """Per site, the open visits whose watermark the next write stores."""
        self.epochs: dict[str, int] = {}
        """The epoch each site's pending writes belong to."""
        self.finals: dict[tuple[str, int], list[Visit]] = {}
        """Visits that became final since the last write, per site and epoch."""
        self.blocks: dict[tuple[str, int], list[FinalBlock]] = {}
        """Visits final on arrival, as columns, per site and epoch."""
        self.persisted_at = time.monotonic()

    def take_finals(self) -> dict[str, tuple[list[Visit], list[FinalBlock]]]:
        """Per site, what became final since the last write."""
        out: dict[str, tuple[list[Visit], list[FinalBlock]]] = defaultdict(lambda: ([], []))
        for (site, _), visits in self.finals.items():
            out[site][0].extend(visits)
        for (site, _), blocks in self.blocks.items():
            out[site][1].extend(blocks)
        self.finals.clear()
        self.blocks.clear()
        return out

    def drop_epochs_except(self, site: str, epoch: int) -> None:
        """What an earlier epoch held (the site's analytics were rebuilt) is never written:
        its final visits, and the watermark that would say they were."""
        for held in (self.finals, self.blocks):
            for pair in [k for k in held if k[0] == site and k[1] != epoch]:
                del held[pair]
        if self.epochs.get(site, epoch) != epoch:
            self.watermarks.pop(site, None)
        self.epochs[site] = epoch
