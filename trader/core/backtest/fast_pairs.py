"""The fast path for several pairs sharing one account: the runner's events, the engine's rules, no ``step``.

Pairs interleave, so this walks the runner's own event queue (``event_queue.EventQueue``: every pair's
next event, one batch per instant and phase, pairs in name order) and does at each batch what one
``engine.step`` does, in its order: the instant's fills first (entry fills checked against the cash,
protective and market exits), the risk memory (``Timeline.equity_marks`` and ``risk.state``), the
trades closed, the trailing stop on the candle's close (``closing.on_price``), exit signals, then entry
signals in pair order through ``risk.check`` with every active position and the free cash lowered by
the entries approved before in the same instant. ``backtest.fast`` explains what is left out and why;
tests/unit/core/backtest/test_fast_pairs.py checks it against the engine path trade for trade.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from trader.core.backtest import kernel
from trader.core.backtest.event_queue import (
    CLOSE_PHASE,
    FILL_PHASE,
    Candidate,
    CloseDecision,
    EventQueue,
    MarketFill,
    Payload,
    ProtectiveExit,
)
from trader.core.backtest.fast import Fallback, PendingEntry, decimal_at, guards_inert
from trader.core.backtest.lanes import Lane
from trader.core.backtest.runner import protective_match, resting_levels, synced_levels
from trader.core.backtest.settings import BacktestSettings, RunOutput
from trader.core.backtest.stops import StopLog
from trader.core.backtest.timeline import Timeline
from trader.core.domain.account import AccountSnapshot
from trader.core.domain.candles import CandleFrame, ms_to_datetime, timeframe_ms
from trader.core.domain.entries import EntryRequest, Refused
from trader.core.domain.enums import Direction, ExitReason, Side
from trader.core.domain.ids import ClientOrderId, Symbol
from trader.core.domain.market import MarketSpec
from trader.core.domain.money import ZERO
from trader.core.domain.orders import Fill
from trader.core.engine.events import EngineEvent, EntryRefused
from trader.core.engine.inputs import EngineConfig, StepOutput
from trader.core.engine.state import HISTORY_LENGTH, EngineState
from trader.core.positions.closing import on_price, stop_reason
from trader.core.positions.pnl import fee_split, price_gain
from trader.core.positions.state import Position, PositionStatus, Working, evolve
from trader.core.risk import state as risk_state
from trader.core.risk.check import check
from trader.core.risk.state import RiskState
from trader.core.sim.costs import FeeModel, Liquidity
from trader.core.strategies.base import SignalFrame

Marks = tuple[tuple[datetime, Decimal], ...]


@dataclass(slots=True)
class _Book:
    """The shared account: quote cash and each base asset held (what equity marks and snapshots read)."""

    quote: str
    cash: Decimal
    held: dict[str, Decimal] = field(default_factory=dict)

    def contracts(self) -> dict[Symbol, tuple[Decimal, Decimal, Decimal]]:
        """Return no swap positions: the fast path trades spot only (swaps run the engine path)."""
        return {}

    def total(self, asset: str) -> Decimal:
        """Return the balance of ``asset``."""
        return self.cash if asset == self.quote else self.held.get(asset, ZERO)


@dataclass(slots=True)
class _Pair:
    """One pair's lane and where its trade stands: an entry order working, a position, an exit working."""

    lane: Lane
    market: MarketSpec
    fees: FeeModel
    pending: PendingEntry | None = None
    position: Position | None = None  # open, or exiting when ``exit_reason`` is set
    exit_reason: ExitReason | None = None  # a market exit is working (fills at the next open)


class _Pairs:
    def __init__(self, lanes: Mapping[Symbol, Lane], markets: Mapping[Symbol, MarketSpec],
                 settings: BacktestSettings) -> None:
        self.settings = settings
        self.config = EngineConfig(settings.strategy, settings.risk, dict(markets))
        self.pairs = {s: _Pair(lane, markets[s], settings.fees or FeeModel.from_market(markets[s]))
                      for s, lane in lanes.items()}
        self.order = list(markets)  # the ledger values holdings in the markets' order (Decimal sums)
        self.timeline = Timeline.build(lanes, settings.risk.timezone, settings.quote)
        self.book = _Book(settings.quote, settings.start_balance)
        self.inert = guards_inert(settings.risk, min(lane.timeframe_ms for lane in lanes.values()))
        self.risk = RiskState()
        self.history: tuple[Decimal, ...] = ()
        self.active: dict[int, Position] = {}  # by entry sequence: the engine's positions, in its order
        self.keys: dict[Symbol, int] = {}
        self.sequence = 0
        self.last_ms: int | None = None
        self.steps = 0
        self.closed: list[Position] = []
        self.fills: list[Fill] = []
        self.stops = StopLog()
        self.queue = EventQueue()

    # ── the account ─────────────────────────────────────────────────────────────────────────
    def equity(self, time_ms: int) -> tuple[Decimal, Decimal]:
        """Return (equity, exposure) as the ledger's snapshot at the pairs' last closes values them."""
        exposure = ZERO
        for symbol in self.order:
            pair = self.pairs.get(symbol)
            held = self.book.held.get(pair.market.base, ZERO) if pair is not None else ZERO
            if held and pair is not None:
                price = pair.lane.last_close(time_ms)
                exposure += held * (price if price is not None else decimal_at(pair.lane.candles.open, 0))
        return self.book.cash + exposure, exposure

    def marks(self, time_ms: int, *, inclusive: bool) -> Marks:
        if self.inert:
            return ()
        out = self.timeline.equity_marks(self.last_ms, time_ms, self.book, self.risk, self.config.risk,
                                         inclusive=inclusive)
        self.last_ms = time_ms
        return out

    def begin(self, now: datetime, marks: Marks, equity: Decimal) -> RiskState:
        before = self.risk
        self.steps += 1
        if self.inert:
            if equity <= 0:
                raise Fallback("equity reached zero")
            return before
        for at, mark in marks:
            self.risk = risk_state.on_equity(self.risk, mark, at, self.config.risk)
        self.risk = risk_state.on_equity(self.risk, equity, now, self.config.risk)
        return before

    def end(self, before: RiskState, events: list[EngineEvent]) -> None:
        if not self.inert or events:
            self.stops.observe(before, StepOutput(EngineState(risk=self.risk), (), tuple(events)))

    def _fill(self, position: Position, side: Side, amount: Decimal, price: Decimal, fee: Decimal,
              now: datetime) -> None:
        cid = ClientOrderId(f"{position.id}-{side}")
        self.fills.append(Fill(f"fast-{len(self.fills)}", cid, position.symbol, side, amount, price, fee,
                               self.settings.quote, now))

    # ── fills (before the step, in batch order) ─────────────────────────────────────────────
    def entry_fill(self, pair: _Pair, k: int, now: datetime) -> None:
        pending, pair.pending = pair.pending, None
        if pending is None:
            raise Fallback("a market fill without an order")
        symbol = pair.lane.symbol
        price = self.settings.slippage.apply(decimal_at(pair.lane.candles.open, k), Side.BUY)
        amount = pending.approved.amount
        cost = amount * price
        fee = pair.fees.fee(cost, Liquidity.TAKER)
        key = self.keys.pop(symbol)
        if cost + fee > self.book.cash:
            del self.active[key]
            self.closed.append(pending.position(pair.market, PositionStatus.REJECTED, closed_at=now,
                                                note="insufficient funds"))
            return
        self.book.cash = self.book.cash + -(cost + fee)
        base = pair.market.base
        self.book.held[base] = self.book.held.get(base, ZERO) + amount
        position = pending.filled(pair.market, amount, price, fee, now)
        self._fill(position, Side.BUY, amount, price, fee, now)
        pair.position = position
        self.active[key] = position
        self.keys[symbol] = key

    def exit_fill(self, pair: _Pair, raw: Decimal, liquidity: Liquidity, reason: ExitReason, now: datetime, *,
                  slipped: bool = False) -> Position:
        """Sell the pair's holding; return the closed position (booked into the risk memory later)."""
        position = pair.position
        if position is None:
            raise Fallback("an exit without a position")
        taker = liquidity is Liquidity.TAKER and not slipped
        price = self.settings.slippage.apply(raw, Side.SELL) if taker else raw
        amount = position.open_amount
        cost = amount * price
        fee = pair.fees.fee(cost, liquidity)
        base = pair.market.base
        self.book.held[base] = self.book.held.get(base, ZERO) + -amount
        self.book.cash = self.book.cash + (cost - fee)
        self._fill(position, Side.SELL, amount, price, fee, now)
        _, fee_quote = fee_split(amount, price, fee, False, reduces_holding=False)
        gain = price_gain(position.direction, position.entry_price or ZERO, price, amount)
        pair.position, pair.exit_reason = None, None
        del self.active[self.keys.pop(pair.lane.symbol)]
        return evolve(position, status=PositionStatus.CLOSED, closed_at=now, exit_price=price,
                      exit_filled=amount, fees=position.fees + fee_quote,
                      realised_pnl=position.realised_pnl + gain - fee_quote, exit_reason=reason,
                      working=Working.NONE, working_amount=ZERO)

    def protective_exit(self, pair: _Pair, event: ProtectiveExit, now: datetime) -> Position:
        if pair.position is None or event.code == kernel.BOTH:
            raise Fallback("a protective exit the fast path does not resolve")
        position = pair.position = synced_levels(pair.position, pair.market, event.stop, event.high_water)
        match = protective_match(position, pair.market, pair.lane, event.index, event.code, event.price,
                                 self.settings.slippage)
        if match is None:
            raise Fallback("a protective exit without a fill")
        reason = ExitReason.TAKE_PROFIT if match.liquidity is Liquidity.MAKER else stop_reason(position)
        return self.exit_fill(pair, match.price, match.liquidity, reason, now, slipped=True)

    # ── one instant ─────────────────────────────────────────────────────────────────────────
    def process(self, time_ms: int, phase: int, batch: list[tuple[Symbol, Payload]]) -> None:
        now = ms_to_datetime(time_ms)
        marks = self.marks(time_ms, inclusive=phase == FILL_PHASE)
        closed: list[Position] = []
        signals: list[tuple[Symbol, int]] = []
        for symbol, payload in batch:
            pair = self.pairs[symbol]
            if isinstance(payload, Candidate | CloseDecision):
                if isinstance(payload, CloseDecision):
                    if pair.position is None:
                        raise Fallback("a close decision without a position")
                    pair.position = synced_levels(pair.position, pair.market, payload.stop,
                                                  payload.high_water)
                signals.append((symbol, payload.index))
            else:
                self.fill(pair, payload, now, closed)
        equity, exposure = self.equity(time_ms)
        before = self.begin(now, marks, equity)
        self.book_closed(closed, now)
        for symbol, k in signals:  # prices, then exit signals (step's phases 3 and 4)
            pair = self.pairs[symbol]
            if pair.position is not None and pair.exit_reason is None:
                self.close_decision(pair, k)
        events: list[EngineEvent] = []
        free = self.book.cash
        for symbol, k in sorted(signals):
            free = self.enter(self.pairs[symbol], k, now, equity, exposure, free, events)
        self.end(before, events)
        for symbol, payload in batch:
            self.schedule(self.pairs[symbol], payload.index, phase, isinstance(payload, ProtectiveExit))

    def fill(self, pair: _Pair, payload: MarketFill | ProtectiveExit, now: datetime,
             closed: list[Position]) -> None:
        """Execute the pair's fill at this instant; a closed trade goes to ``closed``."""
        if isinstance(payload, ProtectiveExit):
            closed.append(self.protective_exit(pair, payload, now))
        elif pair.exit_reason is not None:
            raw = decimal_at(pair.lane.candles.open, payload.index)
            closed.append(self.exit_fill(pair, raw, Liquidity.TAKER, pair.exit_reason, now))
        else:
            self.entry_fill(pair, payload.index, now)

    def book_closed(self, closed: list[Position], now: datetime) -> None:
        for position in closed:
            pnl = position.realised_pnl
            if not self.inert:
                self.risk = risk_state.on_trade_closed(self.risk, position.symbol, pnl, position.exit_reason,
                                                       now, self.config.risk)
            self.history = (*self.history, pnl)[-HISTORY_LENGTH:]
            self.closed.append(position)

    def close_decision(self, pair: _Pair, k: int) -> None:
        position = pair.position
        if position is None:
            return
        moved, _ = on_price(position, pair.lane.price_update(k), self.config.context(pair.lane.symbol))
        pair.position = self.active[self.keys[pair.lane.symbol]] = moved
        if moved.status is PositionStatus.EXITING:
            pair.exit_reason = moved.exit_reason or ExitReason.TRAILING_STOP
        elif pair.lane.signals.exit_long[k]:
            pair.exit_reason = ExitReason.SIGNAL
        else:
            raise Fallback("the engine would not exit where the exit search stopped")

    def enter(self, pair: _Pair, k: int, now: datetime, equity: Decimal, exposure: Decimal, free: Decimal,
              events: list[EngineEvent]) -> Decimal:
        """Send candle ``k``'s entry signal through risk (``step.enter``); return the free cash left."""
        frame, lane = pair.lane.signals, pair.lane
        if not frame.enter_long[k] or frame.exit_long[k]:
            return free
        signal = frame.row(k)
        request = EntryRequest(
            symbol=lane.symbol, direction=Direction.LONG, entry_price=decimal_at(lane.candles.close, k),
            stop_price=None if signal.stop_loss is None else Decimal(repr(signal.stop_loss)),
            strategy=self.settings.strategy, confidence=signal.confidence,
            take_profit=None if signal.take_profit is None else Decimal(repr(signal.take_profit)),
            reason=signal.reason)
        account = AccountSnapshot(self.settings.quote, equity, free, exposure)
        decision = check(request, account, self.risk, list(self.active.values()), pair.market,
                         self.config.risk, history=self.history, now=now)
        if isinstance(decision, Refused):
            events.append(EntryRefused(lane.symbol, self.settings.strategy, decision, now))
            return free
        self.sequence += 1
        pair.pending = PendingEntry(request, decision, now, self.sequence)
        self.active[self.sequence] = pair.pending.position(pair.market, PositionStatus.PENDING_ENTRY)
        self.keys[lane.symbol] = self.sequence
        if not self.inert:
            self.risk = risk_state.on_entry(self.risk, now, equity, self.config.risk)
        return free - decision.notional * (1 + pair.market.taker_fee)

    # ── what happens next for a pair (runner._schedule) ─────────────────────────────────────
    def schedule(self, pair: _Pair, index: int, phase: int, was_exit: bool) -> None:
        lane = pair.lane
        symbol = lane.symbol
        if pair.pending is not None or pair.exit_reason is not None:
            if index + 1 < len(lane):
                self.queue.push(lane.open_time(index + 1), FILL_PHASE, symbol, MarketFill(index + 1))
            return
        if pair.position is not None:
            self.search(pair, index + 1 if phase == CLOSE_PHASE or was_exit else index)
            return
        nxt = lane.next_candidate(index + 1 if phase == CLOSE_PHASE else index)
        if nxt is not None:
            self.queue.push(lane.close_time(nxt), CLOSE_PHASE, symbol, Candidate(nxt))

    def search(self, pair: _Pair, start: int) -> None:
        position = pair.position
        if position is None:
            return
        stop_d, target_d = resting_levels(position, pair.market)
        entry = position.entry_price or ZERO
        levels = kernel.PositionLevels(True, float(entry), math.nan if stop_d is None else float(stop_d),
                                       math.nan if target_d is None else float(target_d),
                                       float(position.high_water or entry))
        trail = self.config.context(pair.lane.symbol).trail
        found = kernel.find_exit(pair.lane.ohlc, pair.lane.exit_flags(True), start, levels, trail)
        lane = pair.lane
        if found.code == kernel.CLOSE:
            payload: Payload = CloseDecision(found.index, found.stop, found.high_water)
            self.queue.push(lane.close_time(found.index), CLOSE_PHASE, lane.symbol, payload)
        elif found.code != kernel.NONE:
            payload = ProtectiveExit(found.index, found.code, found.price, found.stop, found.high_water)
            self.queue.push(lane.open_time(found.index), FILL_PHASE, lane.symbol, payload)

    # ── the run ─────────────────────────────────────────────────────────────────────────────
    def run(self) -> RunOutput:
        for pair in self.pairs.values():
            first = pair.lane.next_candidate(0)
            if first is not None:
                self.queue.push(pair.lane.close_time(first), CLOSE_PHASE, pair.lane.symbol, Candidate(first))
        while self.queue:
            self.process(*self.queue.pop_batch())
        self.finish()
        lanes = {s: p.lane for s, p in self.pairs.items()}
        return RunOutput(tuple(self.closed), tuple(self.fills), lanes, self.timeline, self.steps,
                         self.stops.report())

    def finish(self) -> None:
        """Close what is still open at the last close (END_OF_DATA), in the runner's two steps."""
        active = sorted(s for s, p in self.pairs.items() if p.position is not None or p.pending is not None)
        if not active:
            return
        if any(self.pairs[s].pending is not None or self.pairs[s].exit_reason is not None for s in active):
            raise Fallback("an order still working when the data ends")
        end_ms = max(p.lane.close_time(len(p.lane) - 1) for p in self.pairs.values())
        now = ms_to_datetime(end_ms)
        marks = () if self.inert else self.timeline.equity_marks(self.last_ms, end_ms, self.book, self.risk,
                                                                 self.config.risk)
        self.end(self.begin(now, marks, self.equity(end_ms)[0]), [])
        closed = []
        for symbol in active:
            pair = self.pairs[symbol]
            last = decimal_at(pair.lane.candles.close, len(pair.lane) - 1)
            # the fill is the pair's own last close (the runner's tick), the step the run's last close
            filled_at = ms_to_datetime(pair.lane.close_time(len(pair.lane) - 1))
            closed.append(self.exit_fill(pair, last, Liquidity.TAKER, ExitReason.END_OF_DATA, filled_at))
        before = self.begin(now, (), self.equity(end_ms)[0])
        self.book_closed(closed, now)
        self.end(before, [])


def simulate_pairs(signals: Mapping[Symbol, SignalFrame], candles: Mapping[Symbol, CandleFrame],
                   markets: Mapping[Symbol, MarketSpec], settings: BacktestSettings) -> RunOutput:
    """Run the fast path over pairs sharing the account; raise Fallback on a case it does not cover."""
    tf = timeframe_ms(settings.timeframe)
    lanes = {s: Lane.build(s, candles[s], signals[s], tf) for s in sorted(candles)}
    return _Pairs(lanes, markets, settings).run()
