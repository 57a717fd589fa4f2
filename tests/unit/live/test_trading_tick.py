"""TradingService ticks on a paper venue: only a freshly closed candle is acted on, a failing strategy is
skipped for that candle with an alert, and entry signals are ignored while entries are blocked."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

import numpy as np

from tests.e2e.live_harness import RecordingChannel
from tests.unit.live.test_trading_control import BTC, T0, Paper
from trader.config.sections import RiskConfig
from trader.core.domain.candles import CandleFrame, datetime_to_ms
from trader.core.domain.entries import RefusalReason, Refused
from trader.core.engine.actions import AllowEntries, BlockEntries
from trader.core.engine.events import EntryRefused
from trader.core.strategies.base import SignalFrame, Strategy
from trader.live.alerts import AlertService
from trader.live.engine_runner import CycleInput, EngineOptions
from trader.live.trading import TradingService

HOUR = 3_600_000


class Broken(Strategy):
    """A plugin that raises."""

    name: ClassVar[str] = "broken"

    @property
    def required_history(self) -> int:
        return 5

    def compute(self, candles: CandleFrame) -> SignalFrame:
        raise ZeroDivisionError("plugin bug")


class AlwaysEnter(Strategy):
    """Enter long on every candle."""

    name: ClassVar[str] = "always"

    @property
    def required_history(self) -> int:
        return 5

    def compute(self, candles: CandleFrame) -> SignalFrame:
        n = len(candles)
        yes, no, nan = np.ones(n, bool), np.zeros(n, bool), np.full(n, np.nan)
        return SignalFrame(candles.timestamp, yes, no, no, no, np.ones(n), nan, nan, np.zeros(n, np.int64),
                           ("",))


def feed(paper: Paper, hours: int) -> None:
    """Feed ``hours`` flat candles ending with the one that closed at the clock's hour."""
    end = datetime_to_ms(paper.clock.now()) // HOUR * HOUR
    for k in range(hours, 0, -1):
        ts = end - k * HOUR
        paper.venue.on_candle(BTC, "1h", (ts, 50000.0, 50100.0, 49900.0, 50000.0, 1.0))


def with_strategies(paper: Paper, *strategies: Strategy) -> Paper:
    """Replace the paper service by one running ``strategies`` and queueing alerts in the store."""
    alerts = AlertService(paper.store.uow, RecordingChannel(), paper.clock)
    paper.service = TradingService(paper.venue, paper.store.uow, paper.clock, EngineOptions(RiskConfig()),
                                   {s.name: s for s in strategies}, alerts=alerts)
    return paper


async def test_a_failing_strategy_is_skipped_for_the_candle_and_announced() -> None:
    paper = with_strategies(Paper(), Broken())
    paper.clock.set(T0 + timedelta(hours=1, seconds=5))
    feed(paper, 10)
    report = await paper.service.run_tick("broken", "BTC/USDT", "1h")
    assert report.signal is None and "strategy failed" in report.note
    async with paper.store.uow() as uow:
        [queued] = await uow.alerts.pending()
    assert queued.alert.kind == "error" and "plugin bug" in queued.alert.text


async def test_no_fresh_candle_means_no_decision() -> None:
    paper = with_strategies(Paper(), AlwaysEnter())
    paper.clock.set(T0 + timedelta(hours=1, seconds=5))
    feed(paper, 10)
    paper.clock.advance(timedelta(hours=1))  # the next candle has not arrived
    report = await paper.service.run_tick("always", "BTC/USDT", "1h")
    assert report.signal is None and "no candle closed" in report.note
    assert (await paper.service.engine_state()).positions == {}


async def test_entry_signals_are_refused_by_step_while_entries_are_blocked() -> None:
    paper = with_strategies(Paper(), AlwaysEnter())
    paper.clock.set(T0 + timedelta(hours=1, seconds=5))
    feed(paper, 10)
    blocked = "reconciliation found a difference"
    await paper.service.runner.cycle(CycleInput(actions=(BlockEntries(blocked),)), [])
    report = await paper.service.run_tick("always", "BTC/USDT", "1h")
    assert report.signal is not None and report.signal.enter_long  # the strategy's signal, unaltered
    [refused] = [e for e in report.events if isinstance(e, EntryRefused)]
    assert refused.refusal == Refused(RefusalReason.ENTRIES_BLOCKED, blocked)
    assert (await paper.service.engine_state()).positions == {}
    await paper.service.runner.cycle(CycleInput(actions=(AllowEntries(),)), [])
    paper.clock.advance(timedelta(hours=1))
    feed_next = datetime_to_ms(paper.clock.now()) // HOUR * HOUR - HOUR
    paper.venue.on_candle(BTC, "1h", (feed_next, 50000.0, 50100.0, 49900.0, 50000.0, 1.0))
    report = await paper.service.run_tick("always", "BTC/USDT", "1h")
    assert len((await paper.service.engine_state()).positions) == 1
