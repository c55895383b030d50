"""The current time, injectable so that throttling and expiry can be tested without sleeping."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands datetimes back without a zone; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def get_clock() -> Clock:
    """Routes take the time from here; tests override this dependency."""
    return utcnow


ClockDep = Annotated[Clock, Depends(get_clock)]
