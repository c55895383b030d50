"""Analytics rollups, visitor sketches and ingest state.

Revision ID: 0008_analytics
Revises: 0003_console_users
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_analytics"
down_revision = "0003_console_users"
branch_labels = None
depends_on = None

MAX_VALUE = 300
KEY = ("site", "filter_dim", "filter_value", "dimension", "day", "value")


def _key_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("site", sa.String(253), nullable=False),
        sa.Column("filter_dim", sa.String(16), nullable=False),
        sa.Column("filter_value", sa.String(MAX_VALUE), nullable=False),
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.String(MAX_VALUE), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "analytics_rollups",
        *_key_columns(),
        *(
            sa.Column(name, sa.BigInteger(), nullable=False)
            for name in ("pageviews", "events", "visits", "bounces", "duration_us")
        ),
        sa.PrimaryKeyConstraint(*KEY, name=op.f("pk_analytics_rollups")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "analytics_sketches",
        *_key_columns(),
        sa.Column("sketch", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name=op.f("pk_analytics_sketches")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "analytics_state",
        sa.Column("site", sa.String(253), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("flushed_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("open_since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("site", name=op.f("pk_analytics_state")),
    )


def downgrade() -> None:
    op.drop_table("analytics_state")
    op.drop_table("analytics_sketches")
    op.drop_table("analytics_rollups")
