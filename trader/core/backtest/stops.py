"""Why a backtest stopped trading: drawdown halts, daily-loss days and the entry signals risk refused.

The runner feeds every ``step`` output to a ``StopLog``; ``StopLog.report()`` is the ``TradingStops``
value the text report, the JSON export and the Telegram caption show. Refusals are the entry signals
the engine saw and risk refused (the backtest steps at a flat pair's entry signals, so a signal on a
pair that already holds a position is not counted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from trader.core.domain.enums import TradingState
from trader.core.engine.events import EntryRefused
from trader.core.engine.inputs import StepOutput
from trader.core.risk.state import RiskState


@dataclass(frozen=True, slots=True)
class Halt:
    """Trading was halted at ``at`` (the risk memory's drawdown halt) for ``reason``."""

    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class RefusalCount:
    """How many entry signals risk refused for one reason (a ``RefusalReason`` value), first and last."""

    reason: str
    count: int
    first: datetime
    last: datetime


@dataclass(frozen=True, slots=True)
class TradingStops:
    """Everything that kept a run from trading; empty when nothing did."""

    halts: tuple[Halt, ...] = ()
    daily_loss_days: tuple[date, ...] = ()
    refusals: tuple[RefusalCount, ...] = ()  # most refused reason first

    @property
    def refused(self) -> int:
        """Return the number of refused entry signals."""
        return sum(r.count for r in self.refusals)

    def __bool__(self) -> bool:
        return bool(self.halts or self.daily_loss_days or self.refusals)


@dataclass(slots=True)
class StopLog:
    """Collects halts, daily-loss days and refusals from step outputs, in time order."""

    halts: list[Halt] = field(default_factory=list)
    loss_days: list[date] = field(default_factory=list)
    refusals: dict[str, RefusalCount] = field(default_factory=dict)

    def observe(self, before: RiskState, out: StepOutput) -> None:
        """Record what ``out`` changed from the risk memory ``before`` and the entries it refused."""
        after = out.state.risk
        if after is not before:
            halted = after.trading_state is TradingState.HALTED
            if halted and before.trading_state is not TradingState.HALTED and after.changed_at is not None:
                self.halts.append(Halt(after.changed_at, after.halt_reason))
            if after.daily_loss_day is not None and after.daily_loss_day != before.daily_loss_day:
                self.loss_days.append(after.daily_loss_day)
        for event in out.events:
            if isinstance(event, EntryRefused):
                reason = event.refusal.reason.value
                seen = self.refusals.get(reason)
                self.refusals[reason] = RefusalCount(reason, 1, event.at, event.at) if seen is None \
                    else RefusalCount(reason, seen.count + 1, seen.first, event.at)

    def report(self) -> TradingStops:
        """Return what was collected."""
        refusals = sorted(self.refusals.values(), key=lambda r: (-r.count, r.first))
        return TradingStops(tuple(self.halts), tuple(self.loss_days), tuple(refusals))
