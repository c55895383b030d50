"""One root error type; each carries the HTTP status and exit message it stands for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

AfterRollback = Callable[[Any], None]


class TrothError(Exception):
    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.after_rollback: list[AfterRollback] = []
        """Writes that must survive the failed transaction (an audit entry of a denial):
        each is called with a fresh Session, committed on its own."""


class BadRequest(TrothError):
    status_code = 400


class Forbidden(TrothError):
    status_code = 403


class NotFound(TrothError):
    status_code = 404


class Conflict(TrothError):
    status_code = 409


class Unprocessable(TrothError):
    status_code = 422
