"""The visitor key every event carries (CO5, CO6).

In cookie mode the key is the random 128-bit id the tracker keeps in the first-party
analytics cookie. Cookieless, it is a keyed BLAKE2b hash of site, IP address and user
agent under a salt for the day; salts are deleted after a day, after which nobody
(Troth included) can link that day's keys to an address or to another day's keys.
See `config.py` for what each mode means for the figures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

SALT_BYTES = 32
_VISITOR_ID = re.compile(r"[0-9a-f]{32}")


class SaltSource(Protocol):
    def salt_for(self, day: dt.date) -> bytes:
        """The secret salt of `day`: the same for every caller on that day."""
        ...


@dataclass(slots=True)  # not frozen: built on every hit (see event.RequestContext)
class VisitorKey:
    key: str
    cookieless: bool


def salt_day(now: dt.datetime) -> dt.date:
    """The UTC calendar day a timestamp falls in; salts rotate at midnight UTC."""
    return now.astimezone(dt.UTC).date() if now.tzinfo else now.date()


def valid_visitor_id(visitor_id: str) -> bool:
    """Exactly 32 lower-case hex characters (128 bits); anything else is ignored."""
    return _VISITOR_ID.fullmatch(visitor_id) is not None


def cookieless_key(salt: bytes, site: str, ip: str, user_agent: str) -> str:
    h = hashlib.blake2b(digest_size=16, key=salt)
    h.update(b"\0".join((site.encode(), ip.encode(), user_agent.encode())))
    return h.hexdigest()


def visitor_key(
    *,
    cookie_mode: bool,
    visitor_id: str,
    site: str,
    ip: str,
    user_agent: str,
    day: dt.date,
    salts: SaltSource,
) -> VisitorKey:
    """The cookie id when the visitor is in cookie mode and sent a valid one; otherwise
    the day's cookieless hash."""
    if cookie_mode and valid_visitor_id(visitor_id):
        return VisitorKey(visitor_id, cookieless=False)
    return VisitorKey(cookieless_key(salts.salt_for(day), site, ip, user_agent), cookieless=True)


class MemorySalts:
    """Salts held in memory only (tests, single-process tools)."""

    def __init__(self) -> None:
        self._salts: dict[dt.date, bytes] = {}

    def salt_for(self, day: dt.date) -> bytes:
        return self._salts.setdefault(day, secrets.token_bytes(SALT_BYTES))

    def prune(self, today: dt.date) -> None:
        for day in [d for d in self._salts if d < today - dt.timedelta(days=1)]:
            del self._salts[day]


class FileSalts:
    """One file of 32 random bytes per day under `<data_dir>/collect/salts/<YYYY-MM-DD>`.

    Every collector process reads the same file; the first to need a day's salt
    creates it atomically (written to a private temp file, then hard-linked into
    place, which fails if another process won), so all processes agree. Loading a new
    day's salt also prunes the ones older than yesterday, on disk and in memory.
    """

    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / "collect" / "salts"
        self._cache: dict[dt.date, bytes] = {}
        self._lock = threading.Lock()

    def salt_for(self, day: dt.date) -> bytes:
        salt = self._cache.get(day)
        if salt is None:
            with self._lock:
                salt = self._cache.get(day)
                if salt is None:
                    salt = self._load_or_create(day)
                    self._cache[day] = salt
                    self.prune(day)
        return salt

    def prune(self, today: dt.date) -> None:
        """Delete the salts of every day before yesterday, on disk and in memory."""
        oldest = today - dt.timedelta(days=1)
        for day in [d for d in self._cache if d < oldest]:
            del self._cache[day]
        if not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            try:
                day = dt.date.fromisoformat(path.name)
            except ValueError:
                continue  # temp files and strays are not ours to judge
            if day < oldest:
                path.unlink(missing_ok=True)

    def _path(self, day: dt.date) -> Path:
        return self.folder / day.isoformat()

    def _load_or_create(self, day: dt.date) -> bytes:
        path = self._path(day)
        try:
            return self._read(path)
        except FileNotFoundError:
            pass
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.folder / f".{day.isoformat()}.{secrets.token_hex(8)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_bytes(SALT_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        finally:
            tmp.unlink()
        self._sync_folder()
        return self._read(path)

    def _read(self, path: Path) -> bytes:
        salt = path.read_bytes()
        if len(salt) != SALT_BYTES:
            raise OSError(f"salt file {path} holds {len(salt)} bytes, expected {SALT_BYTES}")
        return salt

    def _sync_folder(self) -> None:
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
