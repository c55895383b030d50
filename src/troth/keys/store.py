"""Per-person data keys, wrapped under the master ring, in a key store apart from the data.

Destroying a person's key is crypto-shredding: every copy of their encrypted fields, in the
database and in any backup of it, becomes unreadable, while everyone else stays readable.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, func, insert, select, update

from troth.errors import BadRequest, Conflict
from troth.keys.cache import KeyCache
from troth.keys.engine import READ, checkpoint, open_engine
from troth.keys.errors import KeyDestroyed, NoPersonKey
from troth.keys.files import RingSource
from troth.keys.rewrap import behind, rewrap_people, rewrap_secrets
from troth.keys.ring import KEY_BYTES
from troth.keys.tables import person_keys, store_secrets
from troth.keys.wrapping import FOR_PERSON, FOR_STORE, unwrap, wrap

INDEX_SECRET = "blind_index"  # noqa: S105 - the name of a stored secret, not a secret
_PERSON_ID = re.compile(r"[^\x00-\x1f\x7f]{1,200}")
_WRAPPED_KEY_OF = "SELECT master_key_id, wrapped_key FROM person_keys WHERE person_id = ?"
"""Run on every cache miss, straight on the driver: a tenth of the cost through Core."""
_IN_CHUNK = 500
"""Ids per IN (...) look-up, well under SQLite's limit on bound parameters."""


@dataclass(frozen=True)
class StoreStatus:
    live: int
    destroyed: int
    by_master: dict[str, int]


class KeyStore:
    def __init__(
        self,
        path: Path,
        ring: RingSource,
        *,
        cache_size: int = 1024,
        cache_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.ring = ring
        self._engine = open_engine(path)
        self._cache = KeyCache(cache_size, cache_seconds, clock)
        self._index_key: bytes | None = None

    def __enter__(self) -> KeyStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._engine.dispose()

    def create_key(self, person_id: str) -> None:
        self.create_keys([person_id])

    def create_keys(self, person_ids: Iterable[str]) -> None:
        """Give each of these people a new data key, all in one transaction (one commit however
        many there are). Conflict, and no key made, if any id has or had a key or is repeated."""
        ids = list(person_ids)
        for person_id in ids:
            check_person_id(person_id)
        _refuse_repeated(ids)
        if not ids:
            return
        keys = {person_id: secrets.token_bytes(KEY_BYTES) for person_id in ids}
        with self._write() as conn:
            self._refuse_existing(conn, ids)
            master = self.ring.current().newest  # read under the lock; see rotate()
            now = _now()
            conn.execute(
                insert(person_keys),
                [
                    {
                        "person_id": person_id,
                        "master_key_id": master.id,
                        "wrapped_key": wrap(FOR_PERSON, person_id, master, key),
                        "created_at": now,
                    }
                    for person_id, key in keys.items()
                ],
            )
        for person_id, key in keys.items():
            self._cache.put(person_id, key)

    def data_key(self, person_id: str) -> bytes:
        key = self._cache.get(person_id)
        if key is None:
            key = self._unwrap_person(person_id)
            self._cache.put(person_id, key)
        return key

    def destroy(self, person_id: str) -> bool:
        """Shred the person's key; True when a live key was destroyed now.

        A person who never had a key gets a tombstone, so their id can never get one later.
        """
        check_person_id(person_id)
        with self._write() as conn:
            row = conn.execute(
                select(person_keys.c.wrapped_key).where(person_keys.c.person_id == person_id)
            ).first()
            if row is None:
                conn.execute(
                    insert(person_keys).values(
                        person_id=person_id, created_at=_now(), destroyed_at=_now()
                    )
                )
            elif row.wrapped_key is not None:
                conn.execute(
                    update(person_keys)
                    .where(person_keys.c.person_id == person_id)
                    .values(wrapped_key=None, master_key_id=None, destroyed_at=_now())
                )
        self._cache.drop(person_id)
        checkpoint(self._engine)
        return row is not None and row.wrapped_key is not None

    def rotate(self, batch_size: int = 500, on_batch: Callable[[int], None] | None = None) -> int:
        """Re-wrap every key under the ring's newest master, one short transaction per batch.

        Readers keep working throughout: a key not yet re-wrapped opens under the older master
        while the ring still holds it. Keys created meanwhile are wrapped under the newest
        master already, because create_key reads the ring inside its write transaction.
        """
        if batch_size < 1:
            raise BadRequest("the batch size must be at least 1")
        target = self.ring.current().newest
        self._cache.clear()
        with self._write() as conn:
            rewrap_secrets(conn, self.ring.current(), target)
        done = 0
        while True:
            with self._write() as conn:
                moved = rewrap_people(conn, self.ring.current(), target, batch_size)
            if not moved:
                return done
            done += moved
            if on_batch is not None:
                on_batch(moved)

    def pending(self) -> int:
        """Keys (of people and of the store) not yet wrapped under the newest master."""
        with self._read() as conn:
            return behind(conn, self.ring.current().newest.id)

    @contextmanager
    def locked(self) -> Iterator[int]:
        """Hold the write lock, so no key is created meanwhile; yields `pending()`."""
        with self._write() as conn:
            yield behind(conn, self.ring.current().newest.id)

    def check_ring(self) -> None:
        """Raise WrongMasterKey unless the ring opens a key under every master id in use."""
        with self._read() as conn:
            samples = conn.execute(
                select(person_keys.c.master_key_id, func.min(person_keys.c.person_id))
                .where(person_keys.c.wrapped_key.is_not(None))
                .group_by(person_keys.c.master_key_id)
            ).all()
        for _master_id, person_id in samples:
            self._unwrap_person(person_id)
        self._unwrap_secret(INDEX_SECRET)

    def count(self) -> int:
        return self.status().live

    def status(self) -> StoreStatus:
        with self._read() as conn:
            rows = conn.execute(
                select(person_keys.c.master_key_id, func.count()).group_by(
                    person_keys.c.master_key_id
                )
            ).all()
        by_master = {row[0]: int(row[1]) for row in rows if row[0] is not None}
        destroyed = sum(int(row[1]) for row in rows if row[0] is None)
        return StoreStatus(sum(by_master.values()), destroyed, by_master)

    def index_key(self) -> bytes:
        """The secret behind blind indexes: made on first use, re-wrapped (never changed) by a
        rotation, so stored indexes stay valid."""
        if self._index_key is None:
            self._index_key = self.secret(INDEX_SECRET)
        return self._index_key

    def secret(self, name: str) -> bytes:
        """A named 256-bit secret of this installation (signing tokens, say): made on first
        use, kept wrapped under the master key ring, the same in every process."""
        return self._unwrap_secret(name) or self._create_secret(name)

    def _unwrap_person(self, person_id: str) -> bytes:
        raw = self._engine.raw_connection()
        try:
            row = raw.cursor().execute(_WRAPPED_KEY_OF, (person_id,)).fetchone()
        finally:
            raw.close()
        if row is None:
            raise NoPersonKey(person_id)
        master_key_id, wrapped_key = row
        if wrapped_key is None:
            raise KeyDestroyed(person_id)
        return unwrap(FOR_PERSON, person_id, self.ring.current(), master_key_id, wrapped_key)

    def _unwrap_secret(self, name: str) -> bytes | None:
        with self._read() as conn:
            row = conn.execute(
                select(store_secrets.c.master_key_id, store_secrets.c.wrapped_key).where(
                    store_secrets.c.name == name
                )
            ).first()
        if row is None:
            return None
        return unwrap(FOR_STORE, name, self.ring.current(), row.master_key_id, row.wrapped_key)

    def _create_secret(self, name: str) -> bytes:
        key = secrets.token_bytes(KEY_BYTES)
        with self._write() as conn:
            exists = conn.scalar(select(store_secrets.c.name).where(store_secrets.c.name == name))
            if exists is None:
                master = self.ring.current().newest
                conn.execute(
                    insert(store_secrets).values(
                        name=name,
                        master_key_id=master.id,
                        wrapped_key=wrap(FOR_STORE, name, master, key),
                        created_at=_now(),
                    )
                )
                return key
        found = self._unwrap_secret(name)  # another process made it first
        assert found is not None
        return found

    def _refuse_existing(self, conn: Connection, person_ids: Sequence[str]) -> None:
        for start in range(0, len(person_ids), _IN_CHUNK):
            chunk = person_ids[start : start + _IN_CHUNK]
            row = conn.execute(
                select(person_keys.c.person_id, person_keys.c.destroyed_at)
                .where(person_keys.c.person_id.in_(chunk))
                .limit(1)
            ).first()
            if row is None:
                continue
            if row.destroyed_at is not None:
                raise Conflict(
                    f"the key of person {row.person_id} was destroyed; a person id is never reused"
                )
            raise Conflict(f"person {row.person_id} already has a data key")

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            conn.execution_options(**{READ: True})
            yield conn


def check_person_id(person_id: str) -> None:
    if not isinstance(person_id, str) or not _PERSON_ID.fullmatch(person_id):
        raise BadRequest("a person id is 1-200 characters without control characters")


def _refuse_repeated(person_ids: Sequence[str]) -> None:
    seen: set[str] = set()
    for person_id in person_ids:
        if person_id in seen:
            raise Conflict(f"person {person_id} is given more than one data key")
        seen.add(person_id)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
