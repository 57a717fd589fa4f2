"""The slow, obviously-correct backtest: call ``engine.step`` on every candle of every pair.

No kernel, no event queue, no skipping: each candle the simulated ledger matches every resting order
against it (fills feed a step at the candle's open), then a step sees the candle's close with its
price and signal row. This is what a live engine does on every candle; the fast runner must produce
the same positions (tests/integration/backtest/test_equivalence.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from trader.core.backtest.execution import Execution, execute, fill_updates
from trader.core.backtest.lanes import Lane
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.candles import CandleFrame, ms_to_datetime, timeframe_ms
from trader.core.domain.enums import ExitReason
from trader.core.domain.ids import Symbol
from trader.core.domain.market import MarketSpec
from trader.core.engine.events import PositionClosed
from trader.core.engine.inputs import EngineConfig, StepInput
from trader.core.engine.orders import OrderUpdate
from trader.core.engine.state import EngineState
from trader.core.engine.step import step
from trader.core.positions.state import Position
from trader.core.sim.ledger import SimLedger
from trader.core.sim.matching import Bar
from trader.core.strategies.base import SignalFrame


@dataclass
class ReferenceLoop:
    """Per-candle driver of ``step`` over a simulated ledger."""

    lanes: dict[Symbol, Lane]
    config: EngineConfig
    ledger: SimLedger
    quote: str
    state: EngineState = field(default_factory=EngineState)
    pending: Execution = field(default_factory=Execution)
    closed: list[Position] = field(default_factory=list)
    steps: int = 0
    changes: list[tuple[int, EngineConfig]] = field(default_factory=list)  # (from close ms, config)

    def config_at(self, time_ms: int) -> EngineConfig:
        """Return the config in force at ``time_ms`` (the last change at or before it, else ``config``)."""
        return next((c for at, c in reversed(self.changes) if at <= time_ms), self.config)

    def step(self, time_ms: int, updates: list[OrderUpdate], **inputs: object) -> None:
        prices = {s: lane.last_close(time_ms) or lane.bar(0).open for s, lane in self.lanes.items()}
        account = self.ledger.snapshot(self.quote, prices)
        later, self.pending.later = self.pending.later, []
        now = ms_to_datetime(time_ms)
        config = self.config_at(time_ms)
        out = step(self.state, StepInput(now, account, config, order_updates=(*later, *updates),
                                         **inputs))  # type: ignore[arg-type]
        self.steps += 1
        self.state = out.state
        self.closed += [e.position for e in out.events if isinstance(e, PositionClosed)]
        execute(out.commands, self.ledger, now, self.pending)
        if self.pending.urgent:
            urgent, self.pending.urgent = self.pending.urgent, []
            self.step(time_ms, urgent)

    def run(self) -> list[Position]:
        times = sorted({int(t) for lane in self.lanes.values() for t in lane.candles.timestamp})
        index = {s: {int(t): k for k, t in enumerate(lane.candles.timestamp)}
                 for s, lane in self.lanes.items()}
        for t in times:
            here = [(s, index[s][t]) for s in self.lanes if t in index[s]]
            self.opening(t, here)
            close_ms = t + next(iter(self.lanes.values())).timeframe_ms
            prices = {s: self.lanes[s].price_update(k) for s, k in here}
            signals = {s: self.lanes[s].signal(k) for s, k in here}
            self.step(close_ms, [], prices=prices, signals=signals)
        self.finish()
        return self.closed

    def opening(self, t: int, here: list[tuple[Symbol, int]]) -> None:
        """Match resting orders on candle t; step on the fills; repeat for orders placed meanwhile."""
        for _ in range(5):  # entry fill -> protection placed -> protection hit on the same candle
            fills = []
            for symbol, k in here:
                lane = self.lanes[symbol]
                fills += self.ledger.on_bar(symbol, lane.bar(k), lane.detail_bars(k))
            updates = fill_updates(fills, self.ledger)
            if not updates:
                return
            self.step(t, updates)

    def finish(self) -> None:
        active = sorted({p.symbol for p in self.state.positions.values()})
        if not active:
            return
        end_ms = max(lane.close_time(len(lane) - 1) for lane in self.lanes.values())
        self.step(end_ms, [], exit_requests=dict.fromkeys(active, ExitReason.END_OF_DATA))
        fills = []
        for symbol in active:
            lane = self.lanes[symbol]
            last = lane.bar(len(lane) - 1)
            fills += self.ledger.on_bar(symbol, Bar.tick(lane.close_time(len(lane) - 1), last.close))
        self.step(end_ms, fill_updates(fills, self.ledger))


def reference_run(signals: Mapping[Symbol, SignalFrame], candles: Mapping[Symbol, CandleFrame],
                  markets: Mapping[Symbol, MarketSpec], settings: BacktestSettings,
                  detail: Mapping[Symbol, CandleFrame] | None = None) -> list[Position]:
    """Return the closed positions of the per-candle reference loop."""
    tf = timeframe_ms(settings.timeframe)
    lanes = {s: Lane.build(s, candles[s], signals[s], tf, allow_short=settings.allow_short,
                           detail=(detail or {}).get(s)) for s in sorted(candles)}
    config = EngineConfig(settings.strategy, settings.risk, dict(markets), allow_short=settings.allow_short)
    ledger = SimLedger({settings.quote: settings.start_balance}, markets.values(), fees=settings.fees,
                       slippage=settings.slippage)
    changes = [(at, EngineConfig(settings.strategy, risk, dict(markets), allow_short=settings.allow_short))
               for at, risk in settings.risk_changes]
    return ReferenceLoop(lanes, config, ledger, settings.quote, changes=changes).run()


def trade_key(p: Position) -> tuple[object, ...]:
    """Return what must agree between the engines for one position."""
    return (p.symbol, p.opened_at, p.closed_at, p.exit_reason, p.entry_price, p.exit_price,
            p.filled, p.realised_pnl, p.status)


__all__ = ["Decimal", "ReferenceLoop", "reference_run", "trade_key"]
