"""Moving wrapped keys from older master keys to the newest, a batch at a time."""

from __future__ import annotations

from sqlalchemy import Connection, func, select, update

from troth.keys.ring import MasterKey, MasterRing
from troth.keys.tables import person_keys, store_secrets
from troth.keys.wrapping import FOR_PERSON, FOR_STORE, unwrap, wrap


def rewrap_people(conn: Connection, ring: MasterRing, target: MasterKey, size: int) -> int:
    rows = conn.execute(
        select(person_keys.c.person_id, person_keys.c.master_key_id, person_keys.c.wrapped_key)
        .where(person_keys.c.wrapped_key.is_not(None))
        .where(person_keys.c.master_key_id != target.id)
        .order_by(person_keys.c.person_id)
        .limit(size)
    ).all()
    for person_id, master_key_id, wrapped in rows:
        key = unwrap(FOR_PERSON, person_id, ring, master_key_id, wrapped)
        conn.execute(
            update(person_keys)
            .where(person_keys.c.person_id == person_id)
            .values(master_key_id=target.id, wrapped_key=wrap(FOR_PERSON, person_id, target, key))
        )
    return len(rows)


def rewrap_secrets(conn: Connection, ring: MasterRing, target: MasterKey) -> None:
    rows = conn.execute(
        select(
            store_secrets.c.name, store_secrets.c.master_key_id, store_secrets.c.wrapped_key
        ).where(store_secrets.c.master_key_id != target.id)
    ).all()
    for name, master_key_id, wrapped in rows:
        key = unwrap(FOR_STORE, name, ring, master_key_id, wrapped)
        conn.execute(
            update(store_secrets)
            .where(store_secrets.c.name == name)
            .values(master_key_id=target.id, wrapped_key=wrap(FOR_STORE, name, target, key))
        )


def behind(conn: Connection, newest_id: str) -> int:
    """Keys, of people and of the store, still wrapped under an older master."""
    people = (
        select(func.count())
        .select_from(person_keys)
        .where(person_keys.c.wrapped_key.is_not(None))
        .where(person_keys.c.master_key_id != newest_id)
    )
    others = (
        select(func.count())
        .select_from(store_secrets)
        .where(store_secrets.c.master_key_id != newest_id)
    )
    return int(conn.scalar(people) or 0) + int(conn.scalar(others) or 0)
