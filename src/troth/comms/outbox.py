"""What queueing and sending mail need from a running Troth, in one object."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from troth.comms.sealing import Sealer
from troth.comms.settings import SmtpSettings, smtp_settings
from troth.keys import KeyStore
from troth.policy.guard import Guard
from troth.policy.schema import Declaration
from troth.runtime import Runtime


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Outbox:
    runtime: Runtime
    keys: KeyStore
    smtp: SmtpSettings
    clock: Callable[[], dt.datetime] = field(default=utcnow)

    @classmethod
    def for_runtime(
        cls, runtime: Runtime, keys: KeyStore, smtp: SmtpSettings | None = None
    ) -> Outbox:
        """SMTP from the runtime's settings unless given. Reads the declaration now: on SQLite
        a first read from inside a caller's writing transaction would wait for its own lock."""
        _ = runtime.declaration
        return cls(runtime, keys, smtp or smtp_settings(runtime.settings))

    @property
    def declaration(self) -> Declaration:
        """The declaration in force, following every publication."""
        return self.runtime.declaration

    @property
    def guard(self) -> Guard:
        return self.runtime.guard

    @cached_property
    def sealer(self) -> Sealer:
        return Sealer(self.keys)
