"""Settled days' visits as columns, for filters the rollups do not hold.

Revision ID: 0013_analytics_day_columns
Revises: 0012_analytics_revision
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_analytics_day_columns"
down_revision = "0012_analytics_revision"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_day_columns",
        sa.Column("site", sa.String(253), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("analytics_day_columns")
