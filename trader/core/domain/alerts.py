"""Alerts pushed to the user (Telegram, console, email, Slack)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """Alert importance; channels subscribe from a minimum severity up."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Return 0 for INFO up to 3 for CRITICAL."""
        return list(Severity).index(self)


@dataclass(frozen=True, slots=True)
class Alert:
    """One message; ``dedupe_key`` collapses repeats of the same error."""

    kind: str  # entry, exit, stop_moved, rejected, guard, halt, reconcile, error, summary
    text: str
    severity: Severity = Severity.INFO
    image: bytes | None = None
    dedupe_key: str | None = None
