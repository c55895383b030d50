"""Where keys live on disk: the master ring (a 0600 file, or TROTH_MASTER_KEY) and the key store."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from troth.config import Settings
from troth.errors import BadRequest
from troth.keys.ring import MasterKey, MasterRing, parse_ring

KEY_STORE_FILE = "keystore.db"
ENV_SOURCE = "TROTH_MASTER_KEY"


class RingSource:
    """The ring in force. A ring file is read again whenever it changes, so a running server
    follows `troth keys rotate` without a restart; a ring from the environment is fixed."""

    def __init__(self, *, ring: MasterRing | None = None, path: Path | None = None) -> None:
        if (ring is None) == (path is None):
            raise ValueError("give a ring or a path")
        self._ring = ring
        self.path = path
        self._seen: tuple[int, int, int] | None = None
        self._lock = threading.Lock()

    @property
    def describe(self) -> str:
        return str(self.path) if self.path else ENV_SOURCE

    def current(self) -> MasterRing:
        if self.path is None:
            assert self._ring is not None
            return self._ring
        with self._lock:
            return self._read_if_changed(self.path)

    def _read_if_changed(self, path: Path) -> MasterRing:
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise BadRequest(
                f"no master key: set {ENV_SOURCE}, or run `troth init` to create {path}"
            ) from None
        seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if self._ring is None or seen != self._seen:
            self._ring = parse_ring(path.read_text(), str(path))
            self._seen = seen
        return self._ring


def ring_source(settings: Settings) -> RingSource:
    if settings.master_key is not None:
        return RingSource(ring=parse_ring(settings.master_key.get_secret_value(), ENV_SOURCE))
    return RingSource(path=settings.resolved_master_key_file)


def key_store_path(settings: Settings) -> Path:
    return settings.resolved_key_dir / KEY_STORE_FILE


def ensure_master_key(settings: Settings) -> Path | None:
    """Create the ring file with one new master key unless a ring is already configured.

    Returns the file it created, or None when TROTH_MASTER_KEY is set or the file exists.
    """
    if settings.master_key is not None:
        return None
    path = settings.resolved_master_key_file
    if path.exists():
        ring_source(settings).current()  # a broken ring file fails here, not at first use
        return None
    write_ring_file(path, MasterRing((MasterKey.generate(),)))
    return path


def write_ring_file(path: Path, ring: MasterRing) -> None:
    """Replace the file atomically: a reader sees the old ring or the new one, never half."""
    make_private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(ring.text())
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def make_private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
