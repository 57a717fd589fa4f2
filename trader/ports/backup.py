"""Database backup port: take a consistent backup of the store, list and prune the backup folder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, slots=True)
class BackupInfo:
    """One backup file: where it is, its size in bytes, when it was taken (UTC), whether encrypted."""

    path: Path
    size_bytes: int
    taken_at: datetime
    encrypted: bool


class DatabaseBackup(Protocol):
    """Back up the configured database into a folder; blocking I/O, so callers run it in a thread."""

    def take(self, now: datetime) -> BackupInfo:
        """Write a new consistent backup named after ``now``; raise StoreError when it cannot."""
        ...

    def latest(self) -> BackupInfo | None:
        """Return the newest backup file in the folder (after a restart), or None."""
        ...

    def prune(self, keep: int) -> list[Path]:
        """Delete all but the newest ``keep`` backups of this store; return what was deleted."""
        ...
