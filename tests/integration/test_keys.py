"""Per-person keys, field encryption and crypto-shredding, on SQLite and PostgreSQL (SE1, CC2)."""

from __future__ import annotations

import base64
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, select, text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from troth.cli.keys import app as keys_app
from troth.config import Settings
from troth.db import is_sqlite, make_engine
from troth.errors import BadRequest, Conflict
from troth.keys import (
    FieldCipher,
    KeyDestroyed,
    KeyStore,
    MasterKey,
    MasterRing,
    NoPersonKey,
    RingSource,
    UnreadableValue,
    WrongMasterKey,
    ensure_master_key,
    open_key_store,
    parse_ring,
    rotate_master,
)
from troth.keys.files import key_store_path, write_ring_file
from troth.runtime import Runtime

WRONG_MASTER = (
    "the master key does not open the key store (wrong TROTH_MASTER_KEY or master key file?)"
)
PEOPLE = {
    "p-ada": {"email": "ada.lovelace@example.com", "name": "Ada Lovelace"},
    "p-bob": {"email": "bob.babbage@example.org", "name": "Bob Babbage"},
    "p-cyd": {"email": "cyd.hopper@example.net", "name": "Cyd Hopper"},
}
CONTROL = "control-plaintext-7f3a9c"
"""Stored unencrypted on purpose: proves the raw scans below would see a plaintext."""

probe_metadata = MetaData()
probe = Table(
    "se1_probe",
    probe_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", String(200), nullable=False),
    Column("field", String(64), nullable=False),
    Column("value", LargeBinary, nullable=False),
    Column("blind_index", String(64), nullable=True),
)
Values = dict[tuple[str, str], str | Exception]


# --- helpers -------------------------------------------------------------------------------


def file_settings(base: Path) -> Settings:
    return Settings(data_dir=base / "data", master_key=None, master_key_file=None, key_dir=None)


@pytest.fixture
def store(runtime: Runtime) -> Iterator[KeyStore]:
    ensure_master_key(runtime.settings)
    with open_key_store(runtime.settings) as opened:
        yield opened


@pytest.fixture
def tmp_store(tmp_path: Path) -> Iterator[KeyStore]:
    settings = file_settings(tmp_path)
    ensure_master_key(settings)
    with open_key_store(settings) as opened:
        yield opened


@contextmanager
def probe_table(engine: Engine) -> Iterator[None]:
    probe_metadata.create_all(engine)
    try:
        yield
    finally:
        probe_metadata.drop_all(engine)


def store_people(engine: Engine, store: KeyStore) -> None:
    cipher = FieldCipher(store)
    rows = []
    for person_id, fields in PEOPLE.items():
        store.create_key(person_id)
        for field, value in fields.items():
            index = cipher.blind_index(field, value) if field == "email" else None
            blob = cipher.encrypt(person_id, field, value)
            rows.append(
                {"person_id": person_id, "field": field, "value": blob, "blind_index": index}
            )
    rows.append(
        {"person_id": "control", "field": "note", "value": CONTROL.encode(), "blind_index": None}
    )
    with engine.begin() as conn:
        conn.execute(probe.insert(), rows)


def stored_rows(engine: Engine) -> list[tuple[str, str, bytes]]:
    with engine.connect() as conn:
        query = select(probe.c.person_id, probe.c.field, probe.c.value)
        rows = conn.execute(query.where(probe.c.person_id != "control")).all()
    return [(row.person_id, row.field, bytes(row.value)) for row in rows]


def decrypt_all(rows: list[tuple[str, str, bytes]], store: KeyStore) -> Values:
    cipher = FieldCipher(store)
    out: Values = {}
    for person_id, field, blob in rows:
        try:
            out[person_id, field] = cipher.decrypt(person_id, field, blob)
        except (KeyDestroyed, UnreadableValue) as exc:
            out[person_id, field] = exc
    return out


def expected(*people: str) -> dict[tuple[str, str], str]:
    return {(p, f): v for p in people for f, v in PEOPLE[p].items()}


def sqlite_checkpoint(engine: Engine) -> None:
    raw = engine.raw_connection()
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


def sqlite_files(path: Path) -> bytes:
    parts = [path, path.with_name(path.name + "-wal")]
    return b"".join(part.read_bytes() for part in parts if part.exists())


def raw_database(engine: Engine) -> bytes:
    """Every byte the database holds for the probe table, as an attacker with the disk (SQLite)
    or with read access to the table (PostgreSQL) would see it."""
    if is_sqlite(engine):
        sqlite_checkpoint(engine)
        assert engine.url.database is not None
        return sqlite_files(Path(engine.url.database))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT t::text FROM se1_probe AS t")).scalars().all()
    return "\n".join(rows).encode()


def visible(raw: bytes, value: str) -> bool:
    """As bytes, or in the hex PostgreSQL shows a bytea in."""
    return value.encode() in raw or value.encode().hex().encode() in raw


def wrapped_key_bytes(store: KeyStore, person_id: str) -> bytes:
    with sqlite3.connect(store.path) as conn:
        row = conn.execute(
            "SELECT wrapped_key FROM person_keys WHERE person_id = ?", (person_id,)
        ).fetchone()
    return bytes(row[0])


# --- SE1: no plaintext at rest ---------------------------------------------------------------


def test_se1_no_personal_field_in_plaintext_in_the_raw_database(
    runtime: Runtime, store: KeyStore
) -> None:
    with probe_table(runtime.engine):
        store_people(runtime.engine, store)
        raw = raw_database(runtime.engine)
        assert visible(raw, CONTROL), "the scan cannot see plaintext at all"
        for fields in PEOPLE.values():
            for value in fields.values():
                assert not visible(raw, value), value
        assert not visible(raw, "Lovelace")
        assert decrypt_all(stored_rows(runtime.engine), store) == expected(*PEOPLE)


def test_se1_blind_index_finds_a_person_by_email_without_decrypting(
    runtime: Runtime, store: KeyStore
) -> None:
    cipher = FieldCipher(store)
    with probe_table(runtime.engine):
        store_people(runtime.engine, store)
        wanted = cipher.blind_index("email", "  ADA.Lovelace@Example.com")
        with runtime.engine.connect() as conn:
            found = conn.execute(
                select(probe.c.person_id).where(probe.c.blind_index == wanted)
            ).scalars()
            assert list(found) == ["p-ada"]


# --- SE1 / CC2: crypto-shredding ------------------------------------------------------------


def test_se1_crypto_shredding_makes_only_that_person_unreadable(
    runtime: Runtime, store: KeyStore
) -> None:
    """CC2 erasure: destroying a person's key erases their encrypted fields wherever they are."""
    with probe_table(runtime.engine):
        store_people(runtime.engine, store)
        FieldCipher(store).encrypt("p-ada", "email", "warm the cache")
        assert store.destroy("p-ada") is True
        values = decrypt_all(stored_rows(runtime.engine), store)
    for field in PEOPLE["p-ada"]:
        error = values.pop(("p-ada", field))
        assert isinstance(error, KeyDestroyed)
        assert error.message == "the key of person p-ada was destroyed; their data is erased"
    assert values == expected("p-bob", "p-cyd")
    with pytest.raises(KeyDestroyed):
        FieldCipher(store).encrypt("p-ada", "email", "new value")
    assert store.count() == 2


def test_se1_crypto_shredding_reaches_a_backup_taken_before_the_erasure(
    runtime: Runtime, store: KeyStore, tmp_path: Path
) -> None:
    """CC2 erasure reaches backups: a copy of the data made before the key was destroyed no
    longer yields that person, while everyone else in the copy still decrypts."""
    with probe_table(runtime.engine):
        store_people(runtime.engine, store)
        backup_rows = backup_then(runtime.engine, tmp_path)
        store.destroy("p-bob")
    values = decrypt_all(backup_rows, store)
    assert all(isinstance(values.pop(("p-bob", f)), KeyDestroyed) for f in PEOPLE["p-bob"])
    assert values == expected("p-ada", "p-cyd")


def backup_then(engine: Engine, tmp_path: Path) -> list[tuple[str, str, bytes]]:
    """SQLite: copy the database file and read it back later. PostgreSQL: a dump of the rows."""
    if not is_sqlite(engine):
        return stored_rows(engine)
    sqlite_checkpoint(engine)
    assert engine.url.database is not None
    copy = tmp_path / "backup.db"
    shutil.copyfile(engine.url.database, copy)
    backup = make_engine(f"sqlite:///{copy}")
    try:
        return stored_rows(backup)
    finally:
        backup.dispose()


def test_se1_a_destroyed_key_leaves_no_bytes_in_the_key_store_files(tmp_store: KeyStore) -> None:
    for person_id in PEOPLE:
        tmp_store.create_key(person_id)
    shredded = wrapped_key_bytes(tmp_store, "p-ada")
    kept = wrapped_key_bytes(tmp_store, "p-bob")
    assert shredded in sqlite_files(tmp_store.path)
    tmp_store.destroy("p-ada")
    on_disk = sqlite_files(tmp_store.path)
    assert shredded not in on_disk
    assert kept in on_disk


def test_se1_a_wrapped_key_copied_onto_another_person_does_not_open(
    tmp_store: KeyStore,
) -> None:
    tmp_store.create_key("p1")
    tmp_store.create_key("p2")
    with sqlite3.connect(tmp_store.path) as conn:
        conn.execute(
            "UPDATE person_keys SET wrapped_key = "
            "(SELECT wrapped_key FROM person_keys WHERE person_id = 'p2') WHERE person_id = 'p1'"
        )
    with KeyStore(tmp_store.path, tmp_store.ring) as fresh, pytest.raises(WrongMasterKey):
        fresh.data_key("p1")


def test_destroy_clears_this_process_cache_and_other_processes_within_the_expiry(
    tmp_path: Path,
) -> None:
    settings = file_settings(tmp_path)
    ensure_master_key(settings)
    now = [0.0]
    with (
        open_key_store(settings) as here,
        KeyStore(
            key_store_path(settings),
            RingSource(path=settings.resolved_master_key_file),
            cache_seconds=30,
            clock=lambda: now[0],
        ) as elsewhere,
    ):
        here.create_key("p1")
        key = elsewhere.data_key("p1")
        assert here.data_key("p1") == key
        here.destroy("p1")
        with pytest.raises(KeyDestroyed):
            here.data_key("p1")
        assert elsewhere.data_key("p1") == key  # still cached in the other process
        now[0] = 30.0
        with pytest.raises(KeyDestroyed):
            elsewhere.data_key("p1")


def test_person_keys_are_created_once_and_ids_of_erased_people_are_never_reused(
    tmp_store: KeyStore,
) -> None:
    tmp_store.create_key("p1")
    with pytest.raises(Conflict, match="already has a data key"):
        tmp_store.create_key("p1")
    tmp_store.destroy("p1")
    assert tmp_store.destroy("p1") is False
    with pytest.raises(Conflict, match="was destroyed; a person id is never reused"):
        tmp_store.create_key("p1")
    assert tmp_store.destroy("never-had-one") is False
    with pytest.raises(Conflict):
        tmp_store.create_key("never-had-one")
    with pytest.raises(NoPersonKey, match="person p2 has no data key"):
        tmp_store.data_key("p2")
    with pytest.raises(BadRequest, match="person id"):
        tmp_store.create_key("")
    with pytest.raises(BadRequest, match="person id"):
        tmp_store.create_key("a\nb")
    status = tmp_store.status()
    assert (status.live, status.destroyed) == (0, 2)


# --- master key ring, key store files ------------------------------------------------------------


def test_ensure_master_key_writes_a_private_ring_beside_the_data_dir(tmp_path: Path) -> None:
    settings = file_settings(tmp_path)
    created = ensure_master_key(settings)
    assert created == tmp_path / "data-keys" / "master.key"
    assert stat.S_IMODE(created.stat().st_mode) == 0o600
    assert stat.S_IMODE(created.parent.stat().st_mode) == 0o700
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())
    assert len(parse_ring(created.read_text(), "ring").keys) == 1
    before = created.read_bytes()
    assert ensure_master_key(settings) is None
    assert created.read_bytes() == before
    with open_key_store(settings) as opened:
        opened.create_key("p1")
        assert stat.S_IMODE(opened.path.stat().st_mode) == 0o600


def test_ensure_master_key_leaves_an_environment_ring_alone(tmp_path: Path) -> None:
    key = base64.b64encode(bytes(32)).decode()
    settings = Settings(data_dir=tmp_path / "data", master_key=SecretStr(key))
    assert ensure_master_key(settings) is None
    assert not settings.resolved_master_key_file.exists()


def test_a_broken_ring_file_or_no_ring_at_all_fails_clearly(tmp_path: Path) -> None:
    settings = file_settings(tmp_path)
    with pytest.raises(BadRequest, match="no master key: set TROTH_MASTER_KEY"):
        open_key_store(settings)
    assert not key_store_path(settings).exists()
    settings.resolved_master_key_file.parent.mkdir(parents=True)
    settings.resolved_master_key_file.write_text("k1:tooshort\n")
    with pytest.raises(
        BadRequest, match=r"master\.key: entry 1: the key is 6 bytes; a master key is 32"
    ):
        ensure_master_key(settings)


@pytest.mark.parametrize("same_id", [True, False], ids=["same id", "bare key"])
def test_se1_a_wrong_master_key_fails_with_a_clear_message(tmp_path: Path, same_id: bool) -> None:
    settings = file_settings(tmp_path)
    ensure_master_key(settings)
    with open_key_store(settings) as opened:
        opened.create_key("p1")
        right = opened.ring.current().newest
    other = base64.b64encode(bytes(32)).decode()
    wrong = f"{right.id}:{other}" if same_id else other
    wrong_settings = settings.model_copy(update={"master_key": SecretStr(wrong)})
    with open_key_store(wrong_settings) as opened, pytest.raises(WrongMasterKey) as caught:
        opened.data_key("p1")
    assert caught.value.message == WRONG_MASTER


# --- rotation ------------------------------------------------------------------------------------


def test_se1_rotation_keeps_everyone_readable_even_while_it_runs(tmp_path: Path) -> None:
    settings = file_settings(tmp_path)
    ensure_master_key(settings)
    people = [f"p{n}" for n in range(7)]
    with open_key_store(settings) as admin, open_key_store(settings, cache_size=0) as server:
        cipher = FieldCipher(server)
        for person_id in people:
            admin.create_key(person_id)
        blobs = {p: cipher.encrypt(p, "email", f"{p}@example.com") for p in people}
        index = cipher.blind_index("email", "p1@example.com")
        old_ring = admin.ring.current()
        seen: list[int] = []

        def mid_rotation(batch: int) -> None:
            seen.append(batch)
            assert {p: cipher.decrypt(p, "email", b) for p, b in blobs.items()} == {
                p: f"{p}@example.com" for p in people
            }
            server.create_key(f"late{len(seen)}")

        done = rotate_master(admin, batch_size=3, on_batch=mid_rotation)

        assert seen[:3] == [3, 3, 1]
        assert done.rewrapped == sum(seen) >= 7
        assert done.dropped == old_ring.ids
        ring = parse_ring(settings.resolved_master_key_file.read_text(), "ring")
        assert ring.ids == (done.newest,)
        assert done.newest not in old_ring.ids
        assert set(admin.status().by_master) == {done.newest}

    with open_key_store(settings, cache_size=0) as fresh:
        cipher = FieldCipher(fresh)
        for person_id, blob in blobs.items():
            assert cipher.decrypt(person_id, "email", blob) == f"{person_id}@example.com"
        assert cipher.blind_index("email", "p1@example.com") == index
        assert fresh.data_key("late1")

    old_only = KeyStore(key_store_path(settings), RingSource(ring=old_ring), cache_size=0)
    with old_only, pytest.raises(WrongMasterKey, match=r"wrong TROTH_MASTER_KEY"):
        old_only.data_key("p1")


def test_rotation_with_an_environment_ring_rewraps_under_its_first_entry(tmp_path: Path) -> None:
    old, new = MasterKey("old", bytes(range(32))), MasterKey("new", bytes(range(1, 33)))
    base = Settings(data_dir=tmp_path / "data", master_key=SecretStr(old.entry()))
    with open_key_store(base) as opened:
        for person_id in ("a", "b"):
            opened.create_key(person_id)
        keys = {p: opened.data_key(p) for p in ("a", "b")}
    both = base.model_copy(update={"master_key": SecretStr(f"{new.entry()},{old.entry()}")})
    with open_key_store(both) as opened:
        done = rotate_master(opened)
    assert (done.rewrapped, done.newest, done.dropped) == (2, "new", ())
    only_new = base.model_copy(update={"master_key": SecretStr(new.entry())})
    with open_key_store(only_new, cache_size=0) as opened:
        assert {p: opened.data_key(p) for p in ("a", "b")} == keys


def test_a_ring_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    settings = file_settings(tmp_path)
    ensure_master_key(settings)
    source = RingSource(path=settings.resolved_master_key_file)
    first = source.current()
    added = first.prepend(MasterKey.generate())
    write_ring_file(settings.resolved_master_key_file, added)
    assert source.current() == added
    assert source.current() is source.current()


def test_rotate_refuses_to_touch_the_ring_when_it_cannot_open_the_store(tmp_path: Path) -> None:
    settings = file_settings(tmp_path)
    ensure_master_key(settings)
    with open_key_store(settings) as opened:
        opened.create_key("p1")
    ring_file = settings.resolved_master_key_file
    stranger = MasterRing((MasterKey.generate(),))
    ring_file.write_text(stranger.text())
    with open_key_store(settings) as opened, pytest.raises(WrongMasterKey):
        rotate_master(opened)
    assert parse_ring(ring_file.read_text(), "ring") == stranger


# --- CLI -----------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("TROTH_MASTER_KEY", "TROTH_MASTER_KEY_FILE", "TROTH_KEY_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TROTH_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("TROTH_DATA_DIR", str(tmp_path / "data"))
    return Settings()


def test_cli_keys_status_counts_keys_and_names_the_masters(cli_env: Settings) -> None:
    ensure_master_key(cli_env)
    with open_key_store(cli_env) as opened:
        for person_id in ("a", "b", "c"):
            opened.create_key(person_id)
        opened.destroy("c")
        master = opened.ring.current().newest.id
    result = CliRunner().invoke(keys_app, ["status"])
    assert result.exit_code == 0, result.output
    assert "person keys: 2 live, 1 destroyed" in result.output
    assert f"under master key {master}: 2" in result.output
    assert f"({master}; newest first)" in result.output


def test_cli_keys_rotate_reports_progress_and_keeps_everyone_readable(cli_env: Settings) -> None:
    ensure_master_key(cli_env)
    with open_key_store(cli_env) as opened:
        for person_id in ("a", "b", "c"):
            opened.create_key(person_id)
        blob = FieldCipher(opened).encrypt("b", "name", "Bob")
        old = opened.ring.current().newest.id
    result = CliRunner().invoke(keys_app, ["rotate", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    new = parse_ring(cli_env.resolved_master_key_file.read_text(), "ring").newest.id
    assert new != old
    assert f"re-wrapped 3 person keys under master key {new}" in result.output
    assert f"dropped master keys {old} from " in result.output
    with open_key_store(cli_env) as opened:
        assert FieldCipher(opened).decrypt("b", "name", blob) == "Bob"


def test_cli_keys_errors_are_one_line_and_exit_1(
    cli_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = CliRunner().invoke(keys_app, ["status"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no master key: set TROTH_MASTER_KEY")
    assert result.stderr.count("\n") == 1

    ensure_master_key(cli_env)
    with open_key_store(cli_env) as opened:
        opened.create_key("a")
    monkeypatch.setenv("TROTH_MASTER_KEY", base64.b64encode(bytes(32)).decode())
    for command in ("status", "rotate"):
        result = CliRunner().invoke(keys_app, [command])
        assert result.exit_code == 1
        assert result.stderr == f"error: {WRONG_MASTER}\n"


def test_cli_keys_generate_prints_a_usable_ring_entry() -> None:
    result = CliRunner().invoke(keys_app, ["generate"])
    assert result.exit_code == 0
    ring = parse_ring(result.stdout, "output")
    assert len(ring.newest.key) == 32
