"""Retry delays and error text of the job queue, without a database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session

from troth.jobs import queue
from troth.jobs.registry import Registry
from troth.jobs.worker import describe


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 2), (2, 4), (3, 8), (10, 1024)])
def test_backoff_doubles_with_each_attempt(attempts: int, seconds: int) -> None:
    assert queue.backoff(attempts) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("attempts", [12, 20, 21, 10**9])
def test_backoff_is_capped(attempts: int) -> None:
    assert queue.backoff(attempts) == queue.MAX_BACKOFF


def test_utc_converts_other_zones_and_rejects_naive_times() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    moment = dt.datetime(2030, 1, 1, 13, 0, tzinfo=paris)
    assert queue.utc(moment) == dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
    assert queue.utc(moment).tzinfo is dt.UTC
    with pytest.raises(ValueError, match="timezone-aware"):
        queue.utc(dt.datetime(2030, 1, 1))


def test_describe_keeps_class_and_message_within_the_limit() -> None:
    assert describe(KeyError("k")) == "KeyError: 'k'"
    assert len(describe(RuntimeError("y" * 1000))) == queue.MAX_ERROR_CHARS


def test_registry_refuses_a_second_handler_for_a_kind() -> None:
    registry = Registry()

    @registry.handler("mail.send")
    def first(session: Session, payload: dict[str, Any]) -> None: ...

    registry.register("mail.send", first)  # the same function again is harmless
    with pytest.raises(ValueError, match="already has a handler"):
        registry.register("mail.send", lambda session, payload: None)
    assert registry.kinds() == ["mail.send"]
    assert registry.get("mail.send") is first
    assert registry.get("mail.other") is None
