"""Wiring for backups: the backup folder and the cipher from the settings, the service for the runtime."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import MultiFernet

from trader.adapters.ops.secret_store import build_cipher, configured_keys
from trader.adapters.store.backup import SqlDatabaseBackup
from trader.config import Settings
from trader.live.alerts import AlertService
from trader.ports.clock import Clock
from trader.services.backups import BackupService


def backup_folder(settings: Settings) -> Path:
    """Return ``backup.folder``, or ``<ops.data_dir>/backups``."""
    return Path(settings.backup.folder or Path(settings.ops.data_dir) / "backups")


def backup_cipher(settings: Settings, *, wanted: bool) -> MultiFernet | None:
    """Return the cipher to encrypt with (``wanted`` or ``backup.encrypt``), else one to decrypt with.

    Encrypting without a secrets key raises SecretError; decrypting returns None without one, and the
    restore then names the missing key if the file turns out to be encrypted.
    """
    keys = configured_keys(settings.ops)
    if wanted or settings.backup.encrypt:
        return build_cipher(keys)
    return build_cipher(keys) if keys else None


def build_backup_service(settings: Settings, alerts: AlertService, clock: Clock) -> BackupService:
    """Return the scheduled backup service over the configured database and folder."""
    cipher = backup_cipher(settings, wanted=settings.backup.encrypt)
    store = SqlDatabaseBackup(settings.database.url, backup_folder(settings),
                              cipher if settings.backup.encrypt else None)
    return BackupService(store, settings.backup, alerts, clock, last=store.latest())
