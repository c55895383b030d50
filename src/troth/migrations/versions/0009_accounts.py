"""Customer accounts, password-reset tokens and policy acceptances by use.

Revision ID: 0009_accounts
Revises: 0003_console_users
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_accounts"
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
        "accounts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _person_link("accounts"),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("totp_secret", sa.LargeBinary(), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("locked_until", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("last_sign_in_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
    op.create_index(op.f("ix_accounts_person_id"), "accounts", ["person_id"], unique=True)
    op.create_table(
        "account_reset_tokens",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey(
                "accounts.id",
                name=op.f("fk_account_reset_tokens_account_id_accounts"),
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("used_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_reset_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_reset_tokens_token_hash")),
    )
    op.create_index(
        op.f("ix_account_reset_tokens_account_id"), "account_reset_tokens", ["account_id"]
    )
    op.create_table(
        "policy_acceptances",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _person_link("policy_acceptances"),
        sa.Column(
            "policy_version",
            sa.Integer(),
            sa.ForeignKey(
                "policy_versions.number",
                name=op.f("fk_policy_acceptances_policy_version_policy_versions"),
            ),
            nullable=True,
        ),
        sa.Column("accepted_at", WHEN, nullable=False),
        sa.Column("how", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_acceptances")),
    )
    op.create_index(op.f("ix_policy_acceptances_person_id"), "policy_acceptances", ["person_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_policy_acceptances_person_id"), table_name="policy_acceptances")
    op.drop_table("policy_acceptances")
    op.drop_index(op.f("ix_account_reset_tokens_account_id"), table_name="account_reset_tokens")
    op.drop_table("account_reset_tokens")
    op.drop_index(op.f("ix_accounts_person_id"), table_name="accounts")
    op.drop_table("accounts")
