"""KeyStore.create_keys: many people's keys in one transaction, refused whole on any clash."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from troth.config import Settings
from troth.errors import BadRequest, Conflict
from troth.keys import FieldCipher, KeyStore, NoPersonKey, ensure_master_key, open_key_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[KeyStore]:
    settings = Settings(
        data_dir=tmp_path / "data", master_key=None, master_key_file=None, key_dir=None
    )
    ensure_master_key(settings)
    with open_key_store(settings) as opened:
        yield opened


def reopened(store: KeyStore) -> KeyStore:
    """The same key store seen by another process: nothing cached."""
    return KeyStore(store.path, store.ring)


def test_se1_create_keys_gives_each_person_their_own_lasting_key(store: KeyStore) -> None:
    ids = [f"p{n}" for n in range(1200)]  # more than one IN (...) chunk

    store.create_keys(ids)

    assert store.count() == 1200
    with reopened(store) as other:
        keys = {other.data_key(person_id) for person_id in ("p0", "p599", "p1199")}
        assert keys == {store.data_key(person_id) for person_id in ("p0", "p599", "p1199")}
    assert len(keys) == 3
    sealed = FieldCipher(store).encrypt("p7", "email", "ada@example.com")
    with reopened(store) as other:
        assert FieldCipher(other).decrypt("p7", "email", sealed) == "ada@example.com"


def test_create_keys_refuses_the_whole_batch_when_one_id_has_or_had_a_key(
    store: KeyStore,
) -> None:
    store.create_key("taken")
    store.destroy("erased")

    with pytest.raises(Conflict, match="person taken already has a data key"):
        store.create_keys(["new-1", "taken", "new-2"])
    with pytest.raises(Conflict, match="the key of person erased was destroyed"):
        store.create_keys(["new-1", "erased"])
    with pytest.raises(Conflict, match="person twice is given more than one data key"):
        store.create_keys(["new-1", "twice", "twice"])
    with pytest.raises(BadRequest, match="person id"):
        store.create_keys(["new-1", "a\nb"])

    with reopened(store) as other, pytest.raises(NoPersonKey):
        other.data_key("new-1")
    assert (store.status().live, store.status().destroyed) == (1, 1)


def test_create_keys_of_no_one_does_nothing(store: KeyStore) -> None:
    store.create_keys([])
    assert store.count() == 0
