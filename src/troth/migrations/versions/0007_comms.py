"""The email outbox.

Revision ID: 0007_comms
Revises: 0003_console_users
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_comms"
down_revision = "0003_console_users"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("promotional", sa.Boolean(), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=True),
        sa.Column("to_digest", sa.String(64), nullable=False),
        sa.Column("recipient", sa.LargeBinary(), nullable=False),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("context", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index("ix_messages_person_id", "messages", ["person_id"])
    op.create_index("ix_messages_to_digest", "messages", ["to_digest"])


def downgrade() -> None:
    op.drop_index("ix_messages_to_digest", table_name="messages")
    op.drop_index("ix_messages_person_id", table_name="messages")
    op.drop_table("messages")
