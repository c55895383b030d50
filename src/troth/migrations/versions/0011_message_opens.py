"""Email opens counted per message (CO5).

Revision ID: 0011_message_opens
Revises: 0003_console_users
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_message_opens"
down_revision = "0003_console_users"
branch_labels = None
depends_on = "0007_comms"  # the messages table this one refers to


def upgrade() -> None:
    op.create_table(
        "message_opens",
        sa.Column("message_id", sa.String(32), nullable=False),
        sa.Column("first_opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opens", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_opens_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_message_opens")),
    )


def downgrade() -> None:
    op.drop_table("message_opens")
