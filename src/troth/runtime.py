"""What a running Troth holds: settings, the database and the declaration in force."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from troth import migrate
from troth.config import Settings
from troth.db import make_engine, make_session_factory, unit_of_work
from troth.errors import TrothError
from troth.keys import FieldCipher, KeyStore, open_key_store
from troth.policy.guard import Guard
from troth.policy.in_force import declaration_in_force
from troth.policy.schema import Declaration


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def start(cls, settings: Settings, *, run_migrations: bool = True) -> Runtime:
        engine = make_engine(settings.resolved_database_url)
        if run_migrations:
            migrate.upgrade(engine)
        runtime = cls(settings=settings, engine=engine, sessions=make_session_factory(engine))
        runtime.load_policy()
        return runtime

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with unit_of_work(self.sessions) as session:
            yield session

    @cached_property
    def declaration(self) -> Declaration:
        """The latest published version; the policy file while nothing is published."""
        with self.transaction() as session:
            return declaration_in_force(session, self.settings.policy_file)

    @cached_property
    def guard(self) -> Guard:
        return Guard(self.declaration)

    @cached_property
    def keys(self) -> KeyStore:
        """This process's handle on the key store (opened on first use, closed with the runtime)."""
        return open_key_store(self.settings)

    @cached_property
    def cipher(self) -> FieldCipher:
        return FieldCipher(self.keys)

    def load_policy(self) -> None:
        """(Re)read the declaration in force now, outside any request's transaction: on SQLite
        a first read from inside a writing transaction would wait for its own lock."""
        self.__dict__.pop("declaration", None)
        self.__dict__.pop("guard", None)
        try:
            _ = self.guard
        except TrothError:
            self.__dict__.pop("declaration", None)  # no policy yet; what needs one says so

    def policy_changed(self) -> None:
        """A version was published: govern by it from now on."""
        self.load_policy()

    def close(self) -> None:
        keys = self.__dict__.pop("keys", None)
        if keys is not None:
            keys.close()
        self.engine.dispose()
