"""The key store's own schema, kept out of troth.db.Base so the main migrations never see it."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, LargeBinary, MetaData, String, Table

metadata = MetaData()

person_keys = Table(
    "person_keys",
    metadata,
    Column("person_id", String(200), primary_key=True),
    Column("master_key_id", String(40), nullable=True),
    Column("wrapped_key", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("destroyed_at", DateTime(timezone=True), nullable=True),
    Index("ix_person_keys_master_key_id", "master_key_id"),
)
"""One row per person. Destroying a key empties wrapped_key and keeps the row as a tombstone,
so the id can tell "erased" from "never had a key" and is never given a new key."""

store_secrets = Table(
    "store_secrets",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("master_key_id", String(40), nullable=False),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
"""Keys that belong to no person (the blind-index key), wrapped and rotated like person keys."""
