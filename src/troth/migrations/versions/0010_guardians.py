"""Age checks and guardian consents (CH1).

Revision ID: 0010_guardians
Revises: 0003_console_users
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_guardians"
down_revision = "0003_console_users"
branch_labels = None
depends_on = "0006_people"

WHEN = sa.DateTime(timezone=True)


def _person_link(table: str) -> sa.Column[int]:
    return sa.Column(
        "person_id",
        sa.Integer(),
        sa.ForeignKey("people.id", name=op.f(f"fk_{table}_person_id_people"), ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "age_checks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _person_link("age_checks"),
        sa.Column("threshold", sa.SmallInteger(), nullable=False),
        sa.Column("jurisdiction", sa.String(8), nullable=True),
        sa.Column("matched", sa.String(8), nullable=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("checked_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_age_checks")),
        sa.UniqueConstraint("person_id", name=op.f("uq_age_checks_person_id")),
    )
    op.create_table(
        "guardian_consents",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _person_link("guardian_consents"),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("guardian_address", sa.LargeBinary(), nullable=False),
        sa.Column("guardian_digest", sa.String(64), nullable=False),
        sa.Column("verify_hash", sa.String(64), nullable=False),
        sa.Column("verify_expires_at", WHEN, nullable=False),
        sa.Column("requested_at", WHEN, nullable=False),
        sa.Column("message_id", sa.String(32), nullable=True),
        sa.Column("consented_at", WHEN, nullable=True),
        sa.Column("method", sa.String(32), nullable=True),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.Column("policy_last_updated", sa.Date(), nullable=True),
        sa.Column("withdraw_hash", sa.String(64), nullable=True),
        sa.Column("withdrawn_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guardian_consents")),
        sa.UniqueConstraint("verify_hash", name=op.f("uq_guardian_consents_verify_hash")),
        sa.UniqueConstraint("withdraw_hash", name=op.f("uq_guardian_consents_withdraw_hash")),
    )
    op.create_index(op.f("ix_guardian_consents_person_id"), "guardian_consents", ["person_id"])
    op.create_index(
        op.f("ix_guardian_consents_guardian_digest"), "guardian_consents", ["guardian_digest"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_guardian_consents_guardian_digest"), table_name="guardian_consents")
    op.drop_index(op.f("ix_guardian_consents_person_id"), table_name="guardian_consents")
    op.drop_table("guardian_consents")
    op.drop_table("age_checks")
