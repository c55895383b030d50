"""Events and ingested journal segments.

Revision ID: 0004_collect
Revises: 0003_console_users
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_collect"
down_revision = "0003_console_users"
branch_labels = None
depends_on = None

EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _text(name: str, length: int) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=False)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", EVENT_ID, primary_key=True, autoincrement=True),
        _text("site", 253),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        _text("kind", 16),
        _text("name", 120),
        _text("path", 2000),
        _text("title", 300),
        _text("hostname", 253),
        _text("referrer_host", 253),
        _text("referrer_path", 2000),
        _text("utm_source", 200),
        _text("utm_medium", 200),
        _text("utm_campaign", 200),
        _text("utm_term", 200),
        _text("utm_content", 200),
        _text("country", 2),
        _text("language", 16),
        _text("browser", 64),
        _text("browser_version", 16),
        _text("os", 64),
        _text("os_version", 16),
        _text("device", 16),
        _text("visitor_key", 64),
        sa.Column("cookieless", sa.Boolean(), nullable=False),
        sa.Column("props", sa.JSON(), nullable=True),
        _text("ip", 120),
        sa.Column("person_id", sa.String(36), nullable=True),
        sa.Column("visit_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_site_ts", "events", ["site", "ts"])
    op.create_index(
        "ix_events_person_id",
        "events",
        ["person_id"],
        sqlite_where=sa.text("person_id IS NOT NULL"),
        postgresql_where=sa.text("person_id IS NOT NULL"),
    )
    op.create_table(
        "collect_segments",
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_collect_segments")),
    )


def downgrade() -> None:
    op.drop_table("collect_segments")
    op.drop_index("ix_events_person_id", table_name="events")
    op.drop_index("ix_events_site_ts", table_name="events")
    op.drop_table("events")
