"""Sealing addresses: under the person's key, or the mail system key for anyone else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from troth.comms.sealing import SYSTEM_OWNER, Sealer, key_owner
from troth.config import Settings
from troth.errors import Unprocessable
from troth.keys import (
    KeyDestroyed,
    KeyStore,
    NoPersonKey,
    UnreadableValue,
    ensure_master_key,
    open_key_store,
)

ADDRESS = "someone@example.org"


@pytest.fixture
def keys(tmp_path: Path) -> Iterator[KeyStore]:
    settings = Settings(data_dir=tmp_path / "data")
    ensure_master_key(settings)
    with open_key_store(settings) as store:
        yield store


def test_non_person_mail_is_sealed_under_a_system_key_made_on_first_use(keys: KeyStore) -> None:
    sealer = Sealer(keys)
    blob = sealer.seal(key_owner(None), "m1", "recipient", ADDRESS)

    assert ADDRESS.encode() not in blob
    assert keys.status().live == 1
    assert sealer.open(SYSTEM_OWNER, "m1", "recipient", blob) == ADDRESS
    sealer.seal(key_owner(None), "m2", "recipient", ADDRESS)
    assert keys.status().live == 1


def test_se1_person_mail_is_sealed_under_their_key_and_erased_with_it(keys: KeyStore) -> None:
    keys.create_key("p_1")
    sealer = Sealer(keys)
    blob = sealer.seal(key_owner("p_1"), "m1", "recipient", ADDRESS)
    assert sealer.open("p_1", "m1", "recipient", blob) == ADDRESS

    keys.destroy("p_1")
    with pytest.raises(KeyDestroyed):
        sealer.open("p_1", "m1", "recipient", blob)


def test_a_person_without_a_key_gets_no_system_key_instead(keys: KeyStore) -> None:
    with pytest.raises(NoPersonKey):
        Sealer(keys).seal("p_none", "m1", "recipient", ADDRESS)
    assert keys.status().live == 0


def test_a_sealed_value_moved_to_another_message_does_not_open(keys: KeyStore) -> None:
    sealer = Sealer(keys)
    blob = sealer.seal(SYSTEM_OWNER, "m1", "recipient", ADDRESS)

    with pytest.raises(UnreadableValue):
        sealer.open(SYSTEM_OWNER, "m2", "recipient", blob)


def test_digest_matches_equal_addresses_only(keys: KeyStore) -> None:
    sealer = Sealer(keys)

    assert sealer.digest(ADDRESS) == sealer.digest(" Someone@Example.org ")
    assert sealer.digest(ADDRESS) != sealer.digest("other@example.org")
    assert ADDRESS not in sealer.digest(ADDRESS)


def test_reserved_person_ids_are_refused() -> None:
    with pytest.raises(Unprocessable, match="reserved"):
        key_owner("system:mail")
