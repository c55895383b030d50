"""The consent ledger.

Revision ID: 0005_consent
Revises: 0003_console_users
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_consent"
down_revision = "0003_console_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_records",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("site", sa.String(253), nullable=False),
        sa.Column("visitor_key", sa.String(64), nullable=False),
        sa.Column("analytics", sa.Boolean(), nullable=False),
        sa.Column("marketing", sa.Boolean(), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.Column("banner_version", sa.String(16), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
    )
    op.create_index("ix_consent_records_visitor_key", "consent_records", ["visitor_key"])
    op.create_index("ix_consent_records_at", "consent_records", ["at"])


def downgrade() -> None:
    op.drop_index("ix_consent_records_at", table_name="consent_records")
    op.drop_index("ix_consent_records_visitor_key", table_name="consent_records")
    op.drop_table("consent_records")
