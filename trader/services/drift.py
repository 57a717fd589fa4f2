"""DriftService: re-run the backtest over the period the account traded and compare trade by trade.

The period runs from the account's first equity snapshot (or ``since``) to its last one. For each
enabled strategy the service loads the stored candles of its pairs (with warm-up before the period),
rebuilds the parameters in force from the configuration and the audit log
(``services.param_history``: each change from the next candle close on, as the engine applies it:
strategy parameters through stitched signals, risk sections through ``BacktestSettings.risk_changes``),
runs the backtest with the paper account's costs and starting equity, builds both
sides' trades from fills and compares them (``analytics.drift``). A logic difference queues one
warning alert in the outbox when the caller asks for alerts (the nightly job, ``tradebot drift --alert``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from trader.config.sections import ExchangeConfig, RiskConfig, StrategyEntry
from trader.core.analytics.drift import (
    DriftResult,
    FilledTrade,
    Status,
    Tolerance,
    TradeDrift,
    compare,
    filled_trades,
)
from trader.core.backtest.api import slice_signals
from trader.core.backtest.markets import default_market
from trader.core.backtest.regimes import regime_signals
from trader.core.backtest.runner import BacktestSettings, simulate
from trader.core.domain.alerts import Alert, Severity
from trader.core.domain.candles import CandleFrame, datetime_to_ms, timeframe_ms
from trader.core.domain.enums import ExitReason
from trader.core.domain.ids import Symbol
from trader.core.domain.market import MarketSpec
from trader.core.errors import DataError, StrategyError
from trader.core.sim.costs import FeeModel, SlippageModel
from trader.core.strategies.base import Strategy
from trader.core.strategies.pair_setup import PAIRS_NAME
from trader.core.strategies.registry import StrategyRegistry
from trader.ports.clock import Clock
from trader.ports.store import UnitOfWorkFactory
from trader.services import pair_drift
from trader.services.audit import SCAN_LIMIT
from trader.services.drift_dto import DriftSide, DriftTradeView, DriftView, ParameterChangeView
from trader.services.drift_text import drift_alert
from trader.services.param_history import Regime, parameter_changes, regimes

MarketsFor = Callable[[Mapping[Symbol, CandleFrame]], Awaitable[Mapping[Symbol, MarketSpec]]]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class DriftSetup:
    """What the comparison needs from the configuration (before any /settings change)."""

    exchange: ExchangeConfig
    risk: RiskConfig
    strategies: tuple[StrategyEntry, ...]
    registry: StrategyRegistry
    start_balance: Decimal | None = None  # the paper account's; None: the equity at the period start
    amount_tolerance: Decimal = Decimal("0.05")


async def first_close_markets(uow_factory: UnitOfWorkFactory, store_exchange: str,
                              frames: Mapping[Symbol, CandleFrame],
                              timeframe: str) -> dict[Symbol, MarketSpec]:
    """Return ``backtest.markets.default_market`` sized at each pair's first stored close, as the replay
    sizes its paper markets (used where no venue is connected, e.g. the CLI)."""
    out: dict[Symbol, MarketSpec] = {}
    async with uow_factory() as uow:
        for symbol, frame in frames.items():
            first = await uow.candles.first_ms(store_exchange, symbol, timeframe)
            head = await uow.candles.load(store_exchange, symbol, timeframe, first, None if first is None
                                          else first + 1)
            price = float(head.close[0]) if len(head) else float(frame.close[0])
            out[symbol] = default_market(symbol, price)
    return out


class DriftService:
    """Compare the account's trades with a backtest over the same period, candles and parameters."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, setup: DriftSetup, *,
                 markets: MarketsFor | None = None, wake: Callable[[], None] | None = None) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._setup = setup
        self._markets = markets
        self._wake = wake

    async def report(self, since: datetime | None = None, *, alert: bool = False) -> DriftView:
        """Return the drift since ``since`` (None: since the account started); with ``alert``, queue a
        warning when a decision differs. DataError when the account has not traded yet."""
        async with self._uow() as uow:
            snapshots = await uow.equity.since(since or _EPOCH)
            if not snapshots:
                raise DataError("no equity snapshots", user_message="The account has no history yet: "
                                "the drift report compares it once it has traded.")
            start, end = snapshots[0].ts, snapshots[-1].ts
            # the paper account's own start balance when it is followed from its start: the first
            # snapshot may already include the first entry's fee
            paper = self._setup.start_balance if since is None else None
            balance = paper if paper is not None else snapshots[0].equity
            changes = parameter_changes(await uow.audit.recent(SCAN_LIMIT))
            fills = await uow.fills.since(start)
            positions = await uow.positions.closed_between(start, None)
        setup = self._setup
        periods = regimes(setup.risk, setup.strategies, setup.registry, changes, start, end)
        quote = setup.exchange.quote_currency
        actual = [t for t in filled_trades(positions, fills, quote) if t.entry.time >= start]
        drifts: list[TradeDrift] = []
        notes: list[str] = []
        for entry in periods[0].strategies:
            timeframe = entry.timeframe or setup.exchange.timeframe
            if entry.name == PAIRS_NAME:  # two legs as one group: the pairs engine path, as replay and live
                expected = await pair_drift.expected(self._frames, entry, timeframe, periods, (start, end),
                                                     balance, setup.exchange)
                notes += pair_drift.notes(periods)
            else:
                pairs = [Symbol(p) for p in (entry.pairs or setup.exchange.pairs)]
                expected = await self._backtest(entry.name, pairs, timeframe, periods, start, end, balance)
            tolerance = Tolerance(time=_delta(timeframe), amount=setup.amount_tolerance)
            mine = [t for t in actual if t.strategy == entry.name]
            drifts += compare(expected, mine, tolerance).trades
        if len(periods[0].strategies) > 1:
            notes.append("several strategies share the account's balance but are backtested one by one "
                         "with all of it, so their sizes may differ")
        known = {e.name for e in periods[0].strategies}
        strangers = [t for t in actual if t.strategy not in known]  # manual or disabled strategies
        drifts += compare([], strangers, Tolerance(_delta(setup.exchange.timeframe))).trades
        view = _view(DriftResult(tuple(sorted(drifts, key=lambda d: (d.entry_time, d.symbol)))), start, end,
                     quote, tuple(e.name for e in periods[0].strategies), periods, tuple(notes))
        if alert and view.logic_differences:
            await self._alert(view)
        return view

    async def _backtest(self, name: str, pairs: Sequence[Symbol], timeframe: str, periods: Sequence[Regime],
                        start: datetime, end: datetime, balance: Decimal) -> list[FilledTrade]:
        setup = self._setup
        try:
            built = [(0 if r.start is None else datetime_to_ms(r.start),
                      setup.registry.create(name, _params(r, name))) for r in periods]
        except StrategyError as exc:
            raise DataError(str(exc), user_message=exc.user_message) from None
        tf = timeframe_ms(timeframe)
        trade_from = -(-(datetime_to_ms(start) - tf) // tf) * tf  # the first candle whose close it saw
        end_ms = datetime_to_ms(end) - tf + 1  # candles closed by the last snapshot
        warmup = max(s.required_history for _, s in built) * tf
        frames = await self._frames(pairs, timeframe, trade_from - warmup, end_ms)
        markets = await (self._markets or self._default_markets(timeframe))(frames)
        settings = BacktestSettings(
            strategy=name, timeframe=timeframe, risk=periods[0].risk, start_balance=balance,
            quote=setup.exchange.quote_currency, fees=FeeModel.flat(setup.exchange.paper_fee),
            slippage=SlippageModel(setup.exchange.paper_slippage),
            risk_changes=tuple((ms, r.risk) for (ms, _), r in zip(built[1:], periods[1:], strict=True)))
        run = await asyncio.to_thread(_simulate, built, frames, trade_from, tf, markets, settings)
        return [t for t in run if t.exit_reason != ExitReason.END_OF_DATA.value]  # still open in the account

    def _default_markets(self, timeframe: str) -> MarketsFor:
        async def markets(frames: Mapping[Symbol, CandleFrame]) -> Mapping[Symbol, MarketSpec]:
            return await first_close_markets(self._uow, self._setup.exchange.name, frames, timeframe)
        return markets

    async def _frames(self, pairs: Sequence[Symbol], timeframe: str, start_ms: int,
                      end_ms: int) -> dict[Symbol, CandleFrame]:
        async with self._uow() as uow:
            frames = {p: await uow.candles.load(self._setup.exchange.name, p, timeframe, start_ms, end_ms)
                      for p in pairs}
        empty = [p for p, f in frames.items() if len(f) == 0]
        if empty:
            raise DataError(f"no {timeframe} candles stored for {', '.join(empty)}",
                            user_message=f"No {timeframe} candles stored for {', '.join(empty)} in the "
                                         "period; fetch them first (tradebot data).")
        return frames

    async def _alert(self, view: DriftView) -> None:
        last = view.logic_differences[-1]
        async with self._uow() as uow:
            await uow.alerts.enqueue(Alert("drift", drift_alert(view), Severity.WARNING,
                                           dedupe_key=f"drift:{last.pair}:{last.entry_time:%Y%m%d%H%M}"),
                                     self._clock.now())
            await uow.commit()
        if self._wake is not None:
            self._wake()


def _params(regime: Regime, name: str) -> Mapping[str, object]:
    return next((e.params for e in regime.strategies if e.name == name), {})


def _delta(timeframe: str) -> timedelta:
    return timedelta(milliseconds=timeframe_ms(timeframe))


def _simulate(built: Sequence[tuple[int, Strategy]], frames: Mapping[Symbol, CandleFrame], trade_from: int,
              tf: int, markets: Mapping[Symbol, MarketSpec], settings: BacktestSettings) -> list[FilledTrade]:
    signals = regime_signals(built, frames, tf)
    firsts = {s: int(np.searchsorted(f.timestamp, trade_from, side="left")) for s, f in frames.items()}
    candles = {s: f.slice(firsts[s]) for s, f in frames.items()}
    if any(len(f) == 0 for f in candles.values()):
        raise DataError("no candles in the period", user_message="No stored candles cover the period.")
    sliced = {s: slice_signals(f, firsts[s]) for s, f in signals.items()}
    run = simulate(sliced, candles, markets, settings)
    return filled_trades(run.positions, run.fills, settings.quote)


def _side(trade: FilledTrade | None) -> DriftSide | None:
    if trade is None:
        return None
    return DriftSide(trade.entry.time, trade.entry.price, trade.exit.time, trade.exit.price,
                     trade.exit.amount, trade.fees, trade.pnl, trade.exit_reason, trade.id)


def _view(result: DriftResult, start: datetime, end: datetime, quote: str, names: tuple[str, ...],
          periods: Sequence[Regime], notes: tuple[str, ...]) -> DriftView:
    trades = tuple(DriftTradeView(
        d.status.value, d.symbol, d.trade.strategy, d.trade.direction,
        _side(d.expected), _side(d.actual), d.slippage, d.fees, d.size, d.logic,
        tuple(w.value for w in d.why)) for d in result.trades)
    changes = tuple(ParameterChangeView(c.at, c.change.key, c.change.old, c.change.new)
                    for r in periods for c in r.changes)
    return DriftView(start, end, quote, names, result.count(Status.MATCHED), result.count(Status.MISSING),
                     result.count(Status.EXTRA), result.total("slippage"), result.total("fees"),
                     result.total("size"), result.total("logic"), trades, changes, notes)
