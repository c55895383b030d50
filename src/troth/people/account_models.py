"""Customer accounts, their password-reset tokens, and the uses that count as accepting the policy.

An account belongs to one person. Its second-factor secret is encrypted under that person's
key, so erasing the person makes it unreadable too. Reset tokens are stored as hashes only.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from troth.db import Base

WHEN = DateTime(timezone=True)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), unique=True, index=True
    )
    password_hash: Mapped[str] = mapped_column(String(256))
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    """Encrypted under the person's key; None while no second factor is enrolled."""
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, default=None)
    """The time step of the last accepted code, so a code cannot be used twice."""
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(WHEN, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(WHEN)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(WHEN, default=None)


class ResetToken(Base):
    """A single-use password-reset link: only the sha256 of its secret is kept."""

    __tablename__ = "account_reset_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(WHEN)
    expires_at: Mapped[dt.datetime] = mapped_column(WHEN)
    used_at: Mapped[dt.datetime | None] = mapped_column(WHEN, default=None)


class PolicyAcceptance(Base):
    """A use of the services that counts as accepting the policy version then in force (PC2)."""

    __tablename__ = "policy_acceptances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    policy_version: Mapped[int | None] = mapped_column(
        ForeignKey("policy_versions.number"), default=None
    )
    """None when no version had been published yet (the policy file was in force)."""
    accepted_at: Mapped[dt.datetime] = mapped_column(WHEN)
    how: Mapped[str] = mapped_column(String(32))
    """The use: sign_up or sign_in."""
