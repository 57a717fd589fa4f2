"""The fast backtest path: one pair's trades without ``engine.step``, deciding through the same rules.

The engine path (``runner``) builds a StepInput at each event and runs the whole engine. Here the
events of a single pair follow each other in a fixed order (entry signal -> entry fill -> exit search
-> exit fill), so this loop walks them directly and calls, at each one, the functions ``step`` would
reach: ``risk.check`` (guards, sizing, Kelly from the closed-trade history, caps, minimums), the
risk memory's updates (``risk.state.on_equity``/``on_entry``/``on_trade_closed``) fed by the same
``Timeline.equity_marks``, the fee and slippage models, ``positions.pnl`` and ``closing.stop_reason``,
and the compiled exit search ``kernel.find_exit`` (``domain.price_rules``: stop, take-profit, trailing
ratchet, gap fills). No order book, no position machine and no command list are built: that is
where the engine path spends its time.

What it does not cover it refuses up front (``unsupported``) or, for a case met only mid-run (a fill
the venue would reject on minimums, an order still working when the data ends), raises ``Fallback``;
``api.run_backtest`` then runs the engine path and says why. tests/unit/core/backtest/test_fast_path.py
checks both paths trade for trade.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from trader.config.sections import RiskConfig
from trader.core.backtest import kernel
from trader.core.backtest.lanes import Lane
from trader.core.backtest.runner import protective_match, resting_levels, synced_levels
from trader.core.backtest.settings import BacktestSettings, RunOutput
from trader.core.backtest.stops import StopLog
from trader.core.backtest.timeline import Timeline
from trader.core.domain.account import AccountSnapshot
from trader.core.domain.candles import CandleFrame, FloatArray, ms_to_datetime, timeframe_ms
from trader.core.domain.entries import Approved, EntryRequest, Refused
from trader.core.domain.enums import Direction, ExitReason, ProtectionKind, Side
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol
from trader.core.domain.market import MarketSpec
from trader.core.domain.money import ZERO
from trader.core.domain.orders import Fill
from trader.core.engine.events import EngineEvent, EntryRefused
from trader.core.engine.inputs import EngineConfig, StepOutput
from trader.core.engine.state import HISTORY_LENGTH, EngineState
from trader.core.positions.closing import is_dust, on_price, stop_reason
from trader.core.positions.pnl import fee_split, price_gain
from trader.core.positions.state import Position, PositionStatus, Working, evolve
from trader.core.positions.trailing import TrailParams
from trader.core.risk import state as risk_state
from trader.core.risk.check import check
from trader.core.risk.state import RiskState
from trader.core.sim.costs import FeeModel, Liquidity
from trader.core.strategies.base import SignalFrame


class Fallback(Exception):
    """The run met a case the fast path does not cover; the engine path must run instead."""


def unsupported(candles: Mapping[Symbol, CandleFrame], markets: Mapping[Symbol, MarketSpec],
                settings: BacktestSettings, detail: Mapping[Symbol, CandleFrame] | None) -> str | None:
    """Return why the fast path cannot run this configuration, or None when it can."""
    if not candles:
        return "no pairs"
    if detail:
        return "lower-timeframe detail candles"
    if settings.risk_changes:
        return "risk settings changing during the run"
    if settings.allow_short:
        return "short entries"
    if settings.futures is not None:
        return "perpetual swaps (margin and funding)"
    if settings.risk.max_positions_per_pair != 1:
        return "more than one position per pair"
    if settings.risk.dca.enabled:
        return "safety orders (DCA)"
    for market in markets.values():
        caps = market.capabilities
        if not (caps.native_stop and caps.oco):
            return f"{market.symbol}: the venue holds no OCO stop (protection is watched or swapped)"
    return None


def guards_inert(cfg: RiskConfig, candle_ms: int) -> bool:
    """Return True when no account guard can refuse an entry of a long-only run on ``candle_ms`` candles.

    Then the risk memory (equity marks, peak, day start, counters, cooldowns) decides nothing and
    reports nothing, and the fast path leaves it out: the drawdown and daily-loss limits are 100 % or
    more (equity stays positive in a long-only spot account; ``_Run.begin`` checks it), the per-day
    and stop-streak limits (both counted per day) exceed the candles a day holds (each trade spans an
    entry candle and a later fill), and there are no cooldowns.
    """
    per_day = -(-90_000_000 // candle_ms) + 1  # a trading day lasts up to 25 h (a DST change)
    return (cfg.max_drawdown_pct >= 1 and cfg.daily_loss_limit_pct >= 1 and cfg.max_trades_per_day > per_day
            and cfg.max_consecutive_stops > per_day and cfg.cooldown_minutes == 0
            and cfg.cooldown_after_loss_minutes == 0)


@dataclass(slots=True)
class _Book:
    """The account as ``Timeline.equity_marks`` and the snapshot read it: quote cash and one holding."""

    quote: str
    base: str
    cash: Decimal
    held: Decimal = ZERO

    def contracts(self) -> dict[Symbol, tuple[Decimal, Decimal, Decimal]]:
        """Return no swap positions: the fast path trades spot only (swaps run the engine path)."""
        return {}

    def total(self, asset: str) -> Decimal:
        """Return the balance of ``asset`` (free plus locked)."""
        if asset == self.quote:
            return self.cash
        return self.held if asset == self.base else ZERO


@dataclass(frozen=True, slots=True)
class PendingEntry:
    """An approved entry waiting for its fill at the next open."""

    request: EntryRequest
    approved: Approved
    at: datetime
    sequence: int

    def position(self, market: MarketSpec, status: PositionStatus, **fields: Any) -> Position:
        """Return the position as ``positions.opening`` books it, in ``status`` with ``fields``."""
        request = self.request
        stop = market.round_stop(self.approved.stop_price, request.direction)
        target = None if request.take_profit is None else market.round_price(request.take_profit)
        working = Working.OCO if target is not None else Working.STOP
        if status is not PositionStatus.OPEN:
            working = Working.NONE
        # the id's shape is the engine's without the time stamp: nothing reads it but the fills' ids
        position_id = PositionId(f"{request.strategy}-{request.symbol}-{self.sequence}")
        return Position(id=position_id, symbol=request.symbol, strategy=request.strategy,
                        direction=request.direction, status=status, amount=self.approved.amount,
                        stop_price=stop, take_profit=target, confidence=request.confidence,
                        reason=request.reason, created_at=self.at, requested_price=self.approved.entry_price,
                        initial_stop=stop, entry_attempt=1, working=working, **fields)

    def filled(self, market: MarketSpec, amount: Decimal, price: Decimal, fee: Decimal,
               now: datetime) -> Position:
        """Return the open position after its entry fill; Fallback where the venue would refuse its stop."""
        held, fee_quote = fee_split(amount, price, fee, False, reduces_holding=True)
        if is_dust(held, price, market):
            raise Fallback("an entry fill too small to protect")
        position = self.position(
            market, PositionStatus.OPEN, entry_price=price, entry_executed=amount, filled=held,
            fees=fee_quote, realised_pnl=ZERO - fee_quote, opened_at=now, high_water=price,
            protection=ProtectionKind.NATIVE, working_amount=held, stop_attempt=1)
        reference = position.take_profit or position.stop_price
        if reference is None or market.minimums_problem(held, reference):
            raise Fallback("a protective order the venue would refuse")
        return position


@dataclass(slots=True)
class _Open:
    """The open trade: what the closed Position will carry."""

    position: Position  # OPEN, with entry fill booked, stop, take-profit, high-water mark
    entry_fill: Fill


@dataclass(slots=True)
class _Run:
    lane: Lane
    market: MarketSpec
    settings: BacktestSettings
    config: EngineConfig
    timeline: Timeline
    book: _Book
    fees: FeeModel
    risk: RiskState = field(default_factory=RiskState)
    history: tuple[Decimal, ...] = ()
    last_ms: int | None = None
    sequence: int = 0
    steps: int = 0
    closed: list[Position] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    stops: StopLog = field(default_factory=StopLog)
    inert: bool = False  # the risk memory cannot change a decision or a report (``guards_inert``)

    # ── the risk memory, as one engine step records it ──────────────────────────────────────
    def marks(self, time_ms: int, *, inclusive: bool) -> tuple[tuple[datetime, Decimal], ...]:
        """Return the equity marks since the last step (before this instant's fills), as the runner."""
        if self.inert:
            return ()
        out = self.timeline.equity_marks(self.last_ms, time_ms, self.book, self.risk, self.config.risk,
                                         inclusive=inclusive)
        self.last_ms = time_ms
        return out

    def equity(self, time_ms: int) -> Decimal:
        """Return cash plus the holding at the last close (the runner's ledger snapshot)."""
        if not self.book.held:
            return self.book.cash
        price = self.lane.last_close(time_ms)
        return self.book.cash + self.book.held * (price if price is not None else self.lane.bar(0).open)

    def begin(self, now: datetime, marks: tuple[tuple[datetime, Decimal], ...], equity: Decimal) -> RiskState:
        """Record the step's equity (``step``'s first phase); return the risk memory before the step."""
        before = self.risk
        self.steps += 1
        if self.inert:
            if equity <= 0:  # the drawdown limit (>= 100 %) would halt here
                raise Fallback("equity reached zero")
            return before
        cfg = self.config.risk
        for at, mark in marks:
            self.risk = risk_state.on_equity(self.risk, mark, at, cfg)
        self.risk = risk_state.on_equity(self.risk, equity, now, cfg)
        return before

    def end(self, before: RiskState, events: tuple[EngineEvent, ...] = ()) -> None:
        """Report the step to the stop log, as the runner does with each StepOutput."""
        if not self.inert or events:
            self.stops.observe(before, StepOutput(EngineState(risk=self.risk), (), events))

    # ── entries ─────────────────────────────────────────────────────────────────────────────
    def request(self, k: int) -> EntryRequest | None:
        """Return the entry request of signal row ``k`` as ``step`` builds it, or None without one."""
        frame = self.lane.signals
        if not frame.enter_long[k] or frame.exit_long[k]:
            return None
        signal = frame.row(k)
        return EntryRequest(
            symbol=self.lane.symbol, direction=Direction.LONG,
            entry_price=decimal_at(self.lane.candles.close, k),
            stop_price=None if signal.stop_loss is None else Decimal(repr(signal.stop_loss)),
            strategy=self.settings.strategy, confidence=signal.confidence,
            take_profit=None if signal.take_profit is None else Decimal(repr(signal.take_profit)),
            reason=signal.reason)

    def decide(self, request: EntryRequest, now: datetime, equity: Decimal,
               holding: Position | None) -> Refused | PendingEntry:
        """Return risk's refusal, or what an approval opens (``step.enter``)."""
        account = AccountSnapshot(self.settings.quote, equity, self.book.cash, equity - self.book.cash)
        decision = check(request, account, self.risk, [holding] if holding else [], self.market,
                         self.config.risk, history=self.history, now=now)
        if isinstance(decision, Refused):
            return decision
        self.sequence += 1
        if not self.inert:
            self.risk = risk_state.on_entry(self.risk, now, equity, self.config.risk)
        return PendingEntry(request, decision, now, self.sequence)

    def candidate(self, k: int) -> PendingEntry | None:
        """Step at candle ``k``'s close on an entry signal; return the pending position, if approved."""
        time_ms = self.lane.close_time(k)
        now = ms_to_datetime(time_ms)
        marks = self.marks(time_ms, inclusive=False)
        equity = self.equity(time_ms)
        before = self.begin(now, marks, equity)
        request = self.request(k)
        if request is None:
            raise Fallback("an entry candidate without an entry signal")
        decided = self.decide(request, now, equity, None)
        if isinstance(decided, Refused):
            self.end(before, (EntryRefused(self.lane.symbol, self.settings.strategy, decided, now),))
            return None
        self.end(before)
        return decided

    def entry_fill(self, pending: PendingEntry, k: int) -> _Open | None:
        """Fill the market entry at candle ``k``'s open; None when the venue rejects it (funds)."""
        time_ms = self.lane.open_time(k)
        now = ms_to_datetime(time_ms)
        marks = self.marks(time_ms, inclusive=True)
        price = self.settings.slippage.apply(decimal_at(self.lane.candles.open, k), Side.BUY)
        amount = pending.approved.amount
        cost = amount * price
        fee = self.fees.fee(cost, Liquidity.TAKER)
        if cost + fee > self.book.cash:
            before = self.begin(now, marks, self.equity(time_ms))
            self.closed.append(pending.position(self.market, PositionStatus.REJECTED, closed_at=now,
                                                note="insufficient funds"))
            self.end(before)
            return None
        self.book.cash = self.book.cash + -(cost + fee)
        self.book.held = self.book.held + amount
        before = self.begin(now, marks, self.equity(time_ms))
        position = pending.filled(self.market, amount, price, fee, now)
        fill = self._fill(position, Side.BUY, amount, price, fee, now, "entry")
        self.end(before)
        return _Open(position, fill)

    def _fill(self, position: Position, side: Side, amount: Decimal, price: Decimal, fee: Decimal,
              now: datetime, purpose: str) -> Fill:
        cid = ClientOrderId(f"{position.id}-{purpose}")
        fill = Fill(f"fast-{len(self.fills)}", cid, position.symbol, side, amount, price, fee,
                    self.settings.quote, now)
        self.fills.append(fill)
        return fill

    # ── exits ───────────────────────────────────────────────────────────────────────────────
    def exit_fill(self, trade: _Open, time_ms: int, raw: Decimal, liquidity: Liquidity, reason: ExitReason,
                  marks: tuple[tuple[datetime, Decimal], ...], *, slipped: bool = False) -> None:
        """Sell the holding at ``raw`` (slippage on taker fills), close the trade, step the risk memory."""
        position = trade.position
        now = ms_to_datetime(time_ms)
        taker = liquidity is Liquidity.TAKER and not slipped
        price = self.settings.slippage.apply(raw, Side.SELL) if taker else raw
        amount = position.open_amount
        cost = amount * price
        fee = self.fees.fee(cost, liquidity)
        self.book.held = self.book.held + -amount
        self.book.cash = self.book.cash + (cost - fee)
        self._fill(position, Side.SELL, amount, price, fee, now, "exit")
        before = self.begin(now, marks, self.equity(time_ms))
        _, fee_quote = fee_split(amount, price, fee, False, reduces_holding=False)
        gain = price_gain(position.direction, position.entry_price or ZERO, price, amount)
        closed = evolve(position, status=PositionStatus.CLOSED, closed_at=now, exit_price=price,
                        exit_filled=amount, fees=position.fees + fee_quote,
                        realised_pnl=position.realised_pnl + gain - fee_quote, exit_reason=reason,
                        working=Working.NONE, working_amount=ZERO)
        pnl = closed.realised_pnl
        if not self.inert:
            self.risk = risk_state.on_trade_closed(self.risk, closed.symbol, pnl, reason, now,
                                                   self.config.risk)
        self.history = (*self.history, pnl)[-HISTORY_LENGTH:]
        self.closed.append(closed)
        self.end(before)


    def end_of_data(self, trade: _Open) -> None:
        """Close the open trade at the last close (END_OF_DATA), in the runner's two steps."""
        end_ms = self.lane.close_time(len(self.lane) - 1)
        now = ms_to_datetime(end_ms)
        marks = () if self.inert else self.timeline.equity_marks(self.last_ms, end_ms, self.book, self.risk,
                                                                 self.config.risk)
        self.end(self.begin(now, marks, self.equity(end_ms)))
        last = decimal_at(self.lane.candles.close, len(self.lane) - 1)
        self.exit_fill(trade, end_ms, last, Liquidity.TAKER,
                       ExitReason.END_OF_DATA, ())

    # ── one trade's exit ────────────────────────────────────────────────────────────────────
    def follow(self, trade: _Open, start: int) -> int | None:
        """Run the open trade to its exit; return the candle to look for the next entry from (None: end)."""
        position = trade.position
        stop_d, target_d = resting_levels(position, self.market)
        entry = float(position.entry_price or ZERO)
        levels = kernel.PositionLevels(True, entry, math.nan if stop_d is None else float(stop_d),
                                       math.nan if target_d is None else float(target_d),
                                       float(position.high_water or ZERO))
        found = kernel.find_exit(self.lane.ohlc, self.lane.exit_flags(True), start, levels, self.trail)
        k = found.index
        if found.code == kernel.NONE:
            self.end_of_data(trade)
            return None
        trade.position = synced_levels(position, self.market, found.stop, found.high_water)
        if found.code == kernel.CLOSE:
            return self.close_decision(trade, k)
        if found.code == kernel.BOTH:
            raise Fallback("stop and take-profit in one candle with detail candles")
        time_ms = self.lane.open_time(k)
        marks = self.marks(time_ms, inclusive=True)
        match = protective_match(trade.position, self.market, self.lane, k, found.code, found.price,
                                 self.settings.slippage)
        if match is None:
            raise Fallback("a protective exit without a fill")
        reason = ExitReason.TAKE_PROFIT if match.liquidity is Liquidity.MAKER else stop_reason(trade.position)
        # the match carries slippage already: settle it as the maker price it is
        self.exit_fill(trade, time_ms, match.price, match.liquidity, reason, marks, slipped=True)
        return k

    def close_decision(self, trade: _Open, k: int) -> int | None:
        """Step on candle ``k``'s close (trailing past the close or an exit signal); exit at the next open."""
        time_ms = self.lane.close_time(k)
        now = ms_to_datetime(time_ms)
        marks = self.marks(time_ms, inclusive=False)
        equity = self.equity(time_ms)
        before = self.begin(now, marks, equity)
        moved, _ = on_price(trade.position, self.lane.price_update(k), self.config.context(self.lane.symbol))
        if moved.status is PositionStatus.EXITING:
            reason = moved.exit_reason or ExitReason.TRAILING_STOP
        elif self.lane.signals.exit_long[k]:
            reason = ExitReason.SIGNAL
        else:
            raise Fallback("the engine would not exit where the exit search stopped")
        trade.position = moved  # exit_fill books the exit and its reason
        events: tuple[EngineEvent, ...] = ()
        request = self.request(k)
        if request is not None:  # an entry signal while the pair still holds: risk refuses it
            decided = self.decide(request, now, equity, trade.position)
            if not isinstance(decided, Refused):
                raise Fallback("a second entry approved while the pair holds a position")
            events = (EntryRefused(self.lane.symbol, self.settings.strategy, decided, now),)
        self.end(before, events)
        if k + 1 >= len(self.lane):
            raise Fallback("an exit order still working when the data ends")
        fill_ms = self.lane.open_time(k + 1)
        marks = self.marks(fill_ms, inclusive=True)
        raw = decimal_at(self.lane.candles.open, k + 1)
        self.exit_fill(trade, fill_ms, raw, Liquidity.TAKER, reason, marks)
        return k + 1

    @property
    def trail(self) -> TrailParams:
        """Return the engine's float view of the trailing rule for this pair."""
        return self.config.context(self.lane.symbol).trail

    def run(self) -> None:
        """Walk the pair from entry signal to entry signal."""
        start: int | None = 0
        while start is not None:
            k = self.lane.next_candidate(start)
            if k is None:
                return
            pending = self.candidate(k)
            if pending is None:
                start = k + 1
                continue
            if k + 1 >= len(self.lane):
                raise Fallback("an entry order still working when the data ends")
            trade = self.entry_fill(pending, k + 1)
            start = k + 1 if trade is None else self.follow(trade, k + 1)


def simulate_fast(signals: Mapping[Symbol, SignalFrame], candles: Mapping[Symbol, CandleFrame],
                  markets: Mapping[Symbol, MarketSpec], settings: BacktestSettings) -> RunOutput:
    """Run the fast path (see ``unsupported`` for what it covers); raise Fallback on a case it does not."""
    reason = unsupported(candles, markets, settings, None)
    if reason is not None:
        raise Fallback(reason)
    (symbol, frame), = candles.items()
    lane = Lane.build(symbol, frame, signals[symbol], timeframe_ms(settings.timeframe))
    market = markets[symbol]
    config = EngineConfig(settings.strategy, settings.risk, dict(markets))
    timeline = Timeline.build({symbol: lane}, settings.risk.timezone, settings.quote)
    book = _Book(settings.quote, timeline.bases[symbol], settings.start_balance)
    run = _Run(lane, market, settings, config, timeline, book, settings.fees or FeeModel.from_market(market))
    run.inert = guards_inert(settings.risk, lane.timeframe_ms)
    run.run()
    return RunOutput(tuple(run.closed), tuple(run.fills), {symbol: lane}, timeline, run.steps,
                     run.stops.report())


def decimal_at(values: FloatArray, k: int) -> Decimal:
    """Return ``values[k]`` as the engine path's lanes do (through repr)."""
    return Decimal(repr(values.item(k)))
