"""Scheduled database backups: take one, prune to the retention, remember the outcome, alert failures."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from trader.config import BackupConfig
from trader.core.domain.alerts import Alert, Severity
from trader.core.errors import TraderError
from trader.live.alerts import AlertService
from trader.ports.backup import BackupInfo, DatabaseBackup
from trader.ports.clock import Clock

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BackupStatus:
    """The newest backup (this run or found on disk) and the last failure, if the last attempt failed."""

    last: BackupInfo | None
    failed_at: datetime | None = None
    error: str | None = None


class BackupService:
    """Runs the backup job; the blocking copy runs in a worker thread so the engine keeps trading."""

    def __init__(self, backup: DatabaseBackup, config: BackupConfig, alerts: AlertService,
                 clock: Clock, *, last: BackupInfo | None = None) -> None:
        self._backup = backup
        self._config = config
        self._alerts = alerts
        self._clock = clock
        self._status = BackupStatus(last)

    @property
    def config(self) -> BackupConfig:
        """Return the backup section (schedule and retention)."""
        return self._config

    def status(self) -> BackupStatus:
        """Return the newest backup and the last failure."""
        return self._status

    async def run(self) -> BackupStatus:
        """Take a backup and prune old ones; a failure is logged, alerted and kept in the status."""
        now = self._clock.now()
        try:
            info = await asyncio.to_thread(self._backup.take, now)
        except (TraderError, OSError) as exc:
            reason = getattr(exc, "user_message", None) or str(exc)
            logger.error("database backup failed: %s", reason)
            self._status = BackupStatus(self._status.last, now, reason)
            await self._alerts.publish(Alert("error", f"Database backup failed: {reason}", Severity.ERROR,
                                             dedupe_key="backup-failed"))
            return self._status
        deleted = await asyncio.to_thread(self._backup.prune, self._config.keep)
        logger.info("database backed up to %s (%d bytes); %d old backup(s) removed",
                    info.path, info.size_bytes, len(deleted))
        self._status = BackupStatus(info)
        return self._status
