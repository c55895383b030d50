"""Pair rollups built when a day settles; final visits of the days before that kept apart.

Days already settled hold complete pair rollups (they were written visit by visit), so they
are marked built. The days still moving keep the pair rows they have; their later visits
go to `analytics_recent_visits` until the day is built from its events. `blocks_since` says
from when the waiting blocks hold every final visit.

Revision ID: 0014_analytics_recent_visits
Revises: 0013_analytics_day_columns
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0014_analytics_recent_visits"
down_revision = "0013_analytics_day_columns"
branch_labels = None
depends_on = None
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""SQLite's AUTOINCREMENT (ids never reused) needs exactly INTEGER PRIMARY KEY."""


def upgrade() -> None:
    with op.batch_alter_table("analytics_state") as batch:
        batch.add_column(sa.Column("blocks_since", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE analytics_state SET blocks_since = flushed_before")
    with op.batch_alter_table("analytics_day_columns") as batch:
        batch.add_column(
            sa.Column("pairs", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "analytics_recent_visits",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("site", sa.String(253), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("visitors", sa.LargeBinary(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_analytics_recent_visits_site_day", "analytics_recent_visits",
                    ["site", "day"])  # fmt: skip
    _mark_settled_days_built()


def _mark_settled_days_built() -> None:
    bind = op.get_bind()
    meta = sa.MetaData()
    state = sa.Table("analytics_state", meta, autoload_with=bind)
    rollups = sa.Table("analytics_rollups", meta, autoload_with=bind)
    columns = sa.Table("analytics_day_columns", meta, autoload_with=bind)
    for site, open_since in bind.execute(sa.select(state.c.site, state.c.open_since)).all():
        settled = _date(open_since)
        days = bind.execute(
            sa.select(rollups.c.day).distinct().where(
                rollups.c.site == site, rollups.c.filter_dim == "", rollups.c.dimension == "",
                rollups.c.day < settled,
            )
        ).scalars()  # fmt: skip
        known = set(bind.execute(
            sa.select(columns.c.day).where(columns.c.site == site)
        ).scalars())  # fmt: skip
        for day in days:
            day = _date(day)
            if day in known:
                bind.execute(sa.update(columns).where(
                    columns.c.site == site, columns.c.day == day
                ).values(pairs=True))  # fmt: skip
            else:
                bind.execute(sa.insert(columns).values(
                    site=site, day=day, version=1, data=None, pairs=True
                ))  # fmt: skip


def _date(value: object) -> dt.date:
    """The UTC date of a stored time (PostgreSQL gives it in the session's time zone)."""
    if isinstance(value, dt.datetime):
        return (value.astimezone(dt.UTC) if value.tzinfo else value).date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def downgrade() -> None:
    op.drop_index("ix_analytics_recent_visits_site_day", "analytics_recent_visits")
    op.drop_table("analytics_recent_visits")
    with op.batch_alter_table("analytics_day_columns") as batch:
        batch.drop_column("pairs")
    with op.batch_alter_table("analytics_state") as batch:
        batch.drop_column("blocks_since")
