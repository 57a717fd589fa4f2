"""The pairs strategy backtested on the engine path: ``engine.step`` and the simulator, as replay and live.

Where ``backtest.pairs`` is its own loop over the group machine (fast, for studying parameters), this
runs what the service runs: per candle, the open is fed to a ``SimLedger`` of linear perpetuals (market
orders fill at it) and its fills go through ``step``; at the close ``step`` gets both legs' prices and
the strategy's row (``compute_pair`` over the history, the row the live tick computes on its tail), and
its commands are placed on the ledger, as the paper exchange would (amounts at market precision, a
market buy checked against the free margin; a refusal comes back as a rejected order). At the end of the
data what is still open is closed at the last close. Proven equal, fill by fill, to the shipped replay
(``tests/e2e/test_replay_pairs.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

import numpy as np

from trader.config.sections import RiskConfig
from trader.core.backtest.markets import as_swap, default_market
from trader.core.backtest.pairs import PairBacktest, PairTrade
from trader.core.domain.account import AccountSnapshot
from trader.core.domain.candles import CandleFrame, FloatArray, IntArray, ms_to_datetime, timeframe_ms
from trader.core.domain.commands import CancelOrder, Command, ReplaceStop
from trader.core.domain.enums import ExitReason, OrderStatus, Side
from trader.core.domain.futures import FuturesTerms
from trader.core.domain.ids import Symbol
from trader.core.domain.market import MarketSpec
from trader.core.domain.money import ONE, ZERO
from trader.core.domain.orders import Fill
from trader.core.engine.events import EngineEvent, GroupClosed
from trader.core.engine.inputs import EngineConfig, StepInput
from trader.core.engine.orders import OrderUpdate
from trader.core.engine.pair_groups import GroupPosition, PairSignal
from trader.core.engine.state import EngineState
from trader.core.engine.step import step
from trader.core.errors import DataError, TraderError
from trader.core.positions.pair_group import GroupStatus
from trader.core.positions.position_events import PriceUpdated
from trader.core.positions.state import Position
from trader.core.sim.costs import FeeModel, SlippageModel
from trader.core.sim.ledger import SimLedger
from trader.core.sim.matching import Bar
from trader.core.strategies.pair_setup import PairSetup
from trader.core.strategies.pairs import PairSignals, aligned, compute_pair

NAME = "pairs"
MAX_ROUNDS = 6  # step -> execute -> step rounds per event, as ``live.engine_runner``


@dataclass(frozen=True, slots=True)
class PairEngineSettings:
    """Money, costs and risk of an engine-path pairs backtest (the paper account's, in replay)."""

    timeframe: str = "1h"
    balance: Decimal = Decimal(10_000)
    quote: str = "USDT"
    fee: Decimal = Decimal("0.001")
    slippage: Decimal = Decimal(0)
    leverage: Decimal = ONE
    risk: RiskConfig = field(default_factory=RiskConfig)


@dataclass(frozen=True, slots=True)
class PairEngineRun:
    """Settled groups (closed or failed) in order, every fill, the equity at each close, the signals.

    ``legs``: each settled group's legs that held coins as CLOSED positions (``GroupClosed.legs``, what
    the services store as trades); ``timestamps``: open times of the candles walked (equity's rows).
    """

    groups: tuple[GroupPosition, ...]
    fills: tuple[Fill, ...]
    equity: FloatArray
    signals: PairSignals
    legs: tuple[Position, ...] = ()
    timestamps: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    steps: int = 0  # engine.step calls


def as_pair_backtest(run: PairEngineRun, symbols: tuple[str, str], timestamps: IntArray,
                     balance: Decimal) -> PairBacktest:
    """Return ``run`` in the shape of ``backtest.pairs`` results, so both print the same report."""
    reasons = {ExitReason.SIGNAL.value: "target", ExitReason.STOP_LOSS.value: "stop"}
    trades = []
    for g in run.groups:
        if g.group.status is not GroupStatus.CLOSED or g.opened_at is None or g.closed_at is None:
            continue
        legs, books = g.group.legs, g.books
        trades.append(PairTrade(
            g.side, _ms(g.opened_at), _ms(g.closed_at), reasons.get(g.exit_reason, g.exit_reason),
            (books[0].entry_price or ZERO, books[1].entry_price or ZERO),
            (books[0].exit_price or ZERO, books[1].exit_price or ZERO), (legs[0].held, legs[1].held),
            float(g.beta), books[0].fees + books[1].fees, g.realised_pnl))
    failed = sum(g.group.status is GroupStatus.FAILED for g in run.groups)
    return PairBacktest(symbols, tuple(trades), run.equity, failed, run.signals, balance, timestamps)


def run_pairs_engine(y: CandleFrame, x: CandleFrame, setup: PairSetup,
                     settings: PairEngineSettings = PairEngineSettings(), *,
                     trade_from_ms: int | None = None) -> PairEngineRun:
    """Backtest ``setup`` on the common candles of its two legs through ``engine.step``.

    The statistics run over the whole history; candles opening before ``trade_from_ms`` only warm
    them up (nothing is traded or marked there).
    """
    y, x = aligned(y, x)
    signals = compute_pair(y, x, setup.params)
    first = 0 if trade_from_ms is None else int(np.searchsorted(y.timestamp, trade_from_ms, side="left"))
    if first >= len(y):
        raise DataError("pairs: no common candle of both legs in the period traded")
    run = _Run((Symbol(setup.y), Symbol(setup.x)), (y, x), signals, setup, settings, first)
    run.walk()
    return PairEngineRun(tuple(run.groups), tuple(run.fills), run.equity, signals, tuple(run.legs),
                         y.timestamp[first:], run.steps)


class _Run:
    def __init__(self, symbols: tuple[Symbol, Symbol], frames: tuple[CandleFrame, CandleFrame],
                 signals: PairSignals, setup: PairSetup, settings: PairEngineSettings,
                 first: int = 0) -> None:
        self.symbols, self.frames, self.signals, self.s = symbols, frames, signals, settings
        self.first = first
        venue = {s: as_swap(default_market(s, float(f.close[0])))
                 for s, f in zip(symbols, frames, strict=True)}
        self.venue = venue  # the paper exchange's markets; the engine trades them at the strategy's leverage
        markets = {s: _with_leverage(m, settings.leverage) for s, m in venue.items()}
        self.config = EngineConfig(NAME, settings.risk, markets, allow_short=False,
                                   pair_leg_fraction=setup.leg_fraction)
        self.ledger = SimLedger({settings.quote: settings.balance}, venue.values(),
                                fees=FeeModel.flat(settings.fee), slippage=SlippageModel(settings.slippage))
        self.state = EngineState()
        self.prices: dict[Symbol, Decimal] = {}
        self.waiting: list[OrderUpdate] = []  # refusals of the ledger, reported at the next step
        self.fills: list[Fill] = []
        self.groups: list[GroupPosition] = []
        self.legs: list[Position] = []
        self.steps = 0
        self.equity = np.empty(len(frames[0]) - first)

    def walk(self) -> None:
        tf = timeframe_ms(self.s.timeframe)
        ts = self.frames[0].timestamp
        for i in range(self.first, len(ts)):
            opened = ms_to_datetime(int(ts[i]))
            fills: list[Fill] = []
            for symbol, frame in zip(self.symbols, self.frames, strict=True):
                ohlc = (frame.open, frame.high, frame.low, frame.close)
                bar = Bar(int(ts[i]), *(Decimal(repr(float(a[i]))) for a in ohlc))
                self.prices[symbol] = bar.close  # the paper exchange marks at the fed candle's close
                fills += self.ledger.on_bar(symbol, bar)
            if fills:
                self._step(opened, order_updates=self._updates(fills))
            close = ms_to_datetime(int(ts[i]) + tf)
            row = self._signal(i)
            prices = {s: PriceUpdated(p, p, p, close) for s, p in self._closes(i).items()}
            self._step(close, prices=prices, pair_signals={row.key: row})
            self.equity[i - self.first] = float(self._account().equity)
        self._finish(ms_to_datetime(int(ts[-1]) + tf))

    def _finish(self, at: datetime) -> None:
        if not self.state.groups:
            return
        self._step(at, exit_requests=dict.fromkeys(self.symbols, ExitReason.END_OF_DATA))
        fills = [f for s in self.symbols for f in self.ledger.on_bar(s, Bar.tick(_ms(at), self.prices[s]))]
        self._step(at, order_updates=self._updates(fills))
        self.equity[-1] = float(self._account().equity)

    def _signal(self, i: int) -> PairSignal:
        s = self.signals
        return PairSignal(self.symbols[0], self.symbols[1], float(s.beta[i]), float(s.zscore[i]),
                          bool(s.enter_long[i]), bool(s.enter_short[i]), bool(s.exit_long[i]),
                          bool(s.exit_short[i]), bool(s.stop_long[i]), bool(s.stop_short[i]))

    def _closes(self, i: int) -> dict[Symbol, Decimal]:
        return {s: Decimal(repr(float(f.close[i]))) for s, f in zip(self.symbols, self.frames, strict=True)}

    def _account(self) -> AccountSnapshot:
        return self.ledger.snapshot(self.s.quote, self.prices, with_balances=False)

    def _updates(self, fills: Iterable[Fill]) -> tuple[OrderUpdate, ...]:
        out = []
        for fill in fills:
            self.fills.append(fill)
            order = self.ledger.order(fill.client_order_id)
            done = order is None or order.status is OrderStatus.FILLED
            status = OrderStatus.FILLED if done else OrderStatus.OPEN
            out.append(OrderUpdate(fill.client_order_id, status, fill))
        return tuple(out)

    def _step(self, now: datetime, *, order_updates: tuple[OrderUpdate, ...] = (),
              prices: Mapping[Symbol, PriceUpdated] | None = None,
              pair_signals: Mapping[str, PairSignal] | None = None,
              exit_requests: Mapping[Symbol, ExitReason] | None = None) -> None:
        inp = StepInput(now, self._account(), self.config, order_updates, prices or {},
                        exit_requests=exit_requests or {}, pair_signals=pair_signals or {})
        for _ in range(MAX_ROUNDS):  # as the live cycle: refusals and cancels go back to step at once
            out = step(self.state, inp)
            self.steps += 1
            self.state = out.state
            self._collect(out.events)
            for command in out.commands:
                self._execute(command, now)
            if not self.waiting:
                return
            inp = StepInput(now, self._account(), self.config, tuple(self.waiting))
            self.waiting = []

    def _collect(self, events: Iterable[EngineEvent]) -> None:
        for event in events:
            if isinstance(event, GroupClosed):
                self.groups.append(event.group)
                self.legs += event.legs

    def _execute(self, command: Command, now: datetime) -> None:
        if isinstance(command, CancelOrder):
            if self.ledger.order(command.client_order_id) is not None:
                self.ledger.cancel(command.client_order_id, now)
                self.waiting.append(OrderUpdate(command.client_order_id, OrderStatus.CANCELLED))
            return
        if isinstance(command, ReplaceStop):  # groups send none; a pairs run holds no other position
            return
        request = command.request
        market = self.venue[request.symbol]
        amount = market.round_amount(request.amount)
        price = self.prices[request.symbol]
        problem = market.minimums_problem(amount, price) or self._margin_problem(market, request.side, amount,
                                                                                 price)
        if problem is None:
            try:
                self.ledger.place(replace(request, amount=amount), now)
                return
            except TraderError as exc:
                problem = str(exc)
        self.waiting.append(OrderUpdate(request.client_order_id, OrderStatus.REJECTED, reason=problem))

    def _margin_problem(self, market: MarketSpec, side: Side, amount: Decimal, price: Decimal) -> str | None:
        """The paper exchange's check of a market buy: the margin of what it opens and the fee."""
        if side is not Side.BUY or market.futures is None:
            return None
        price = SlippageModel(self.s.slippage).apply(price, Side.BUY)
        closing = min(amount, max(-self.ledger.position(market.symbol)[0], ZERO))
        fee = amount * price * FeeModel.flat(self.s.fee).taker
        need = (amount - closing) * price / market.futures.leverage + fee
        free = self.ledger.balances().get(market.quote)
        have = free.free if free is not None else ZERO
        return None if have >= need else f"needs about {need} {market.quote}, free {have}"


def _with_leverage(market: MarketSpec, leverage: Decimal) -> MarketSpec:
    terms = market.futures or FuturesTerms()
    return replace(market, futures=replace(terms, leverage=leverage))


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


__all__ = ["PairEngineRun", "PairEngineSettings", "as_pair_backtest", "run_pairs_engine"]
