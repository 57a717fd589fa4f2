"""The parameters in force at any time, rebuilt from the configuration and the audit log.

Every accepted /settings change is audited as action ``param.change`` with the detail
``"<key>: <old> → <new>"`` (``services.audit.change_detail``) in the transaction that stores it. Applying
those changes in time order to a ParameterBook built from the configuration alone reproduces the
book the engine ran with at each moment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from trader.config.sections import RiskConfig, StrategyEntry
from trader.core.errors import InputError
from trader.core.strategies.registry import StrategyRegistry
from trader.live.parameters import ParameterBook
from trader.ports.store import AuditEntry
from trader.services.dto import SettingChange

PARAM_ACTION: Final = "param.change"
_ARROW: Final = " → "


@dataclass(frozen=True, slots=True)
class TimedChange:
    """An accepted parameter change and when it was stored."""

    at: datetime
    change: SettingChange


def parse_change(entry: AuditEntry) -> TimedChange | None:
    """Return the change an audit entry records, None for other entries, refusals and masked values."""
    if entry.action != PARAM_ACTION or entry.result != "ok":
        return None
    key, sep, values = entry.detail.partition(": ")
    old, arrow, new = values.partition(_ARROW)
    if not sep or not arrow or not key:
        return None
    return TimedChange(entry.ts, SettingChange(key, old, new))


def parameter_changes(entries: Iterable[AuditEntry]) -> list[TimedChange]:
    """Return the accepted parameter changes among ``entries``, oldest first."""
    found = (parse_change(e) for e in entries)
    return sorted((c for c in found if c is not None), key=lambda c: c.at)


@dataclass(frozen=True, slots=True)
class Regime:
    """Parameters in force from ``start`` (None: from the beginning) until the next regime."""

    start: datetime | None
    risk: RiskConfig
    strategies: tuple[StrategyEntry, ...]
    changes: tuple[TimedChange, ...] = ()  # what started this regime


def regimes(risk: RiskConfig, strategies: Sequence[StrategyEntry], registry: StrategyRegistry,
            changes: Sequence[TimedChange], start: datetime, end: datetime) -> list[Regime]:
    """Return the parameter regimes over ``[start, end]``: the one in force at ``start``, then one per
    change time inside the period. A change the configuration no longer accepts is skipped, as the
    engine's start-up skips it."""
    book = ParameterBook(risk, strategies, registry)

    def apply(change: TimedChange) -> bool:
        try:
            book.apply(change.change)
        except InputError:
            return False
        return True

    for change in changes:
        if change.at <= start:
            apply(change)
    out = [Regime(None, book.risk, tuple(book.strategies))]
    inside = [c for c in changes if start < c.at <= end]
    for at in sorted({c.at for c in inside}):
        applied = tuple(c for c in inside if c.at == at and apply(c))
        if applied:
            out.append(Regime(at, book.risk, tuple(book.strategies), applied))
    return out
