"""What can go wrong with keys, each a TrothError with a message an operator can act on."""

from __future__ import annotations

from troth.errors import NotFound, TrothError, Unprocessable

WRONG_MASTER_KEY = (
    "the master key does not open the key store (wrong TROTH_MASTER_KEY or master key file?)"
)


class WrongMasterKey(TrothError):
    """The ring in force cannot unwrap what the key store holds: a configuration fault."""

    status_code = 503

    def __init__(self) -> None:
        super().__init__(WRONG_MASTER_KEY)


class NoPersonKey(NotFound):
    def __init__(self, person_id: str) -> None:
        super().__init__(f"person {person_id} has no data key")


class KeyDestroyed(NotFound):
    """The key was crypto-shredded: every copy of the person's encrypted data is unreadable."""

    status_code = 410

    def __init__(self, person_id: str) -> None:
        super().__init__(f"the key of person {person_id} was destroyed; their data is erased")


class UnreadableValue(Unprocessable):
    """A stored value that fails authentication: altered, truncated, or moved."""

    def __init__(self, person_id: str, field: str, why: str) -> None:
        super().__init__(f"the {field} of person {person_id} cannot be decrypted: {why}")
