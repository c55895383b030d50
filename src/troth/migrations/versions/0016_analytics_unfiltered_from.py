"""A day's unfiltered rollups are written once, by its day's job, from its waiting blocks.

Until now each watermark added the visits that became final to the unfiltered counts and
sketches of their day. From now on they only wait in blocks, and views read them there until
the day's job writes the day's unfiltered and pair rollups together. Days a site has stored
the old way keep it: `unfiltered_from` is the first day of the new way. For a site that
exists now it is the day after tomorrow: its earlier days may hold unfiltered rows written by
watermarks, and a process of the older version still running elsewhere writes them until it
is restarted (a day's job that finds some anyway writes them again from the day's blocks).

Revision ID: 0016_analytics_unfiltered_from
Revises: 0015_analytics_open_counted
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0016_analytics_unfiltered_from"
down_revision = "0015_analytics_open_counted"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("analytics_state") as batch:
        batch.add_column(sa.Column("unfiltered_from", sa.Date(), nullable=True))
    first = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)
    op.execute(
        sa.text("UPDATE analytics_state SET unfiltered_from = :day").bindparams(
            sa.bindparam("day", first, type_=sa.Date())
        )
    )


def downgrade() -> None:
    # Days not built yet from this column on lack unfiltered rows until they are recomputed.
    with op.batch_alter_table("analytics_state") as batch:
        batch.drop_column("unfiltered_from")
