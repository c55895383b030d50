"""People, their encrypted values, blind indexes and payment tokens.

Revision ID: 0006_people
Revises: 0003_console_users
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_people"
down_revision = "0003_console_users"
branch_labels = None
depends_on = None

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
        "people",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("public_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("jurisdiction", sa.String(8), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("public_id", name=op.f("uq_people_public_id")),
    )
    op.create_table(
        "person_values",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _person_link("person_values"),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("source", sa.String(80), nullable=False),
        sa.Column("method", sa.String(128), nullable=False),
        sa.Column("collected_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_values")),
        sa.UniqueConstraint("person_id", "field", name=op.f("uq_person_values_person_id")),
    )
    op.create_index(op.f("ix_person_values_person_id"), "person_values", ["person_id"])
    op.create_table(
        "person_lookups",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _person_link("person_lookups"),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_lookups")),
        sa.UniqueConstraint("person_id", "field", name=op.f("uq_person_lookups_person_id")),
    )
    op.create_index(op.f("ix_person_lookups_person_id"), "person_lookups", ["person_id"])
    op.create_index("ix_person_lookups_field_digest", "person_lookups", ["field", "digest"])
    op.create_table(
        "payment_methods",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _person_link("payment_methods"),
        sa.Column("processor", sa.String(64), nullable=False),
        sa.Column("token", sa.LargeBinary(), nullable=False),
        sa.Column("brand", sa.String(32), nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("exp_month", sa.SmallInteger(), nullable=False),
        sa.Column("exp_year", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_methods")),
    )
    op.create_index(op.f("ix_payment_methods_person_id"), "payment_methods", ["person_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_payment_methods_person_id"), table_name="payment_methods")
    op.drop_table("payment_methods")
    op.drop_index("ix_person_lookups_field_digest", table_name="person_lookups")
    op.drop_index(op.f("ix_person_lookups_person_id"), table_name="person_lookups")
    op.drop_table("person_lookups")
    op.drop_index(op.f("ix_person_values_person_id"), table_name="person_values")
    op.drop_table("person_values")
    op.drop_table("people")
