"""Unfiltered rollups count final visits only; a site's open visits are read at query time.

Until now every batch kept the unfiltered counts current, open visits included. Sites stored
that way are marked: their ingester takes the open visits out of the counts once, when it
next loads the site (`sessions.py`), and queries count open visits as already in until then.

Revision ID: 0015_analytics_open_counted
Revises: 0014_analytics_recent_visits
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_analytics_open_counted"
down_revision = "0014_analytics_recent_visits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("analytics_state") as batch:
        batch.add_column(
            sa.Column("open_counted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(sa.text("UPDATE analytics_state SET open_counted = :yes").bindparams(yes=True))


def downgrade() -> None:
    # The visits open at this moment stay out of the counts until their days are recomputed.
    with op.batch_alter_table("analytics_state") as batch:
        batch.drop_column("open_counted")
