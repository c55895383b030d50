"""A per-site revision that says when days the dashboard cache holds have changed.

Revision ID: 0012_analytics_revision
Revises: 0008_analytics
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_analytics_revision"
down_revision = "0008_analytics"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("analytics_state") as batch:
        batch.add_column(
            sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("analytics_state") as batch:
        batch.drop_column("revision")
