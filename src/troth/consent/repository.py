"""Every query on the consent ledger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from troth.consent.models import ConsentRecord


def add(session: Session, record: ConsentRecord) -> None:
    session.add(record)
    session.flush()


def of_visitor(session: Session, visitor_key: str) -> Sequence[ConsentRecord]:
    query = (
        select(ConsentRecord)
        .where(ConsentRecord.visitor_key == visitor_key)
        .order_by(ConsentRecord.at, ConsentRecord.id)
    )
    return session.scalars(query).all()


def counts_by_day_and_method(
    session: Session, since: dt.datetime
) -> Sequence[tuple[object, str, int]]:
    """(day, method, count) rows since a moment; the day's type differs per database."""
    day = func.date(ConsentRecord.at)
    query = (
        select(day, ConsentRecord.method, func.count())
        .where(ConsentRecord.at >= since)
        .group_by(day, ConsentRecord.method)
        .order_by(day.desc(), ConsentRecord.method)
    )
    return [(row[0], row[1], row[2]) for row in session.execute(query)]
