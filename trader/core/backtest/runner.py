"""Event-driven backtest: the live decision path (``engine.step``) at event candles only.

For every pair the strategy's signals are computed once for the whole history (``Strategy.compute``,
the same function live calls on its window). The runner then walks from event to event instead of
from candle to candle:

- a flat pair's next event is its next entry signal (a searchsorted over precomputed indexes);
- an open position's next event is found by ``kernel.find_exit`` (compiled): the first candle where
  the resting stop/take-profit fills, or whose close carries an exit signal or pushes the ratcheted
  stop past the close;
- at each event the runner builds a StepInput exactly as a live engine would at that moment (fills,
  that candle's price and signal row, the account from the ledger), calls ``engine.step``, and
  executes the commands on ``sim.ledger.SimLedger``. Market orders fill at the next candle's open.

Between events nothing can happen that would change a decision, except the trailing stop, which the
kernel ratchets with the engine's own rule (``domain.price_rules``, compiled); before the position's next
event the runner writes the kernel's stop and high-water mark into the position, as the skipped
PriceUpdated events would have. Equity observations between events reach the risk memory as
``equity_marks`` (``timeline.equity_marks``). tests/integration/backtest checks the whole runner
against a per-candle loop that calls ``step`` on every candle.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping
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
from trader.core.backtest.execution import Execution, execute, fill_updates
from trader.core.backtest.lanes import Lane
from trader.core.backtest.markets import as_swap
from trader.core.backtest.settings import BacktestSettings, Progress, RunOutput
from trader.core.backtest.stops import StopLog
from trader.core.backtest.timeline import Timeline
from trader.core.domain.candles import CandleFrame, ms_to_datetime, timeframe_ms
from trader.core.domain.enums import ExitReason, OrderType
from trader.core.domain.ids import Symbol
from trader.core.domain.market import MarketSpec
from trader.core.engine.events import PositionClosed
from trader.core.engine.inputs import EngineConfig, StepInput, StepOutput
from trader.core.engine.orders import OrderUpdate
from trader.core.engine.state import EngineState
from trader.core.engine.step import step
from trader.core.errors import InputError
from trader.core.positions import dca
from trader.core.positions.position_events import PriceUpdated
from trader.core.positions.protection import working_id
from trader.core.positions.state import Position, PositionStatus, evolve
from trader.core.sim.costs import Liquidity, SlippageModel
from trader.core.sim.ledger import SimLedger
from trader.core.sim.matching import Match, match_exit, stop_fill_price
from trader.core.strategies.base import BoolArray, Signal, SignalFrame, Strategy


def resting_levels(position: Position, market: MarketSpec) -> tuple[Decimal | None, Decimal | None]:
    """Return the stop trigger and take-profit price as the resting order carries them (on the tick)."""
    stop = None if position.stop_price is None else market.round_stop(position.stop_price, position.direction)
    target = None if position.take_profit is None else market.round_price(position.take_profit)
    return stop, target


def synced_levels(position: Position, market: MarketSpec, stop: float, high_water: float) -> Position:
    """Return ``position`` with the kernel's stop and high-water mark (itself when neither changed).

    The kernel ratchets in float on the tick; the position keeps Decimals, so a level the resting order
    already carries is left as it is.
    """
    new_stop = position.stop_price
    resting, _ = resting_levels(position, market)
    if not math.isnan(stop) and (resting is None or float(resting) != stop):
        new_stop = market.round_price(Decimal(repr(stop)))
    hw = position.high_water
    if hw is None or float(hw) != high_water:
        hw = Decimal(repr(high_water))
    if new_stop != position.stop_price or hw != position.high_water:
        return evolve(position, stop_price=new_stop, high_water=hw)
    return position


def protective_match(position: Position, market: MarketSpec, lane: Lane, index: int, code: int, price: float,
                     slippage: SlippageModel) -> Match | None:
    """Return how the resting stop/take-profit fills in candle ``index`` (kernel ``code``, raw ``price``)."""
    side = position.direction.exit_side
    stop, target = resting_levels(position, market)
    bar = lane.bar(index)
    if code == kernel.BOTH:
        found = match_exit(side, bar, stop=stop, take_profit=target, detail=lane.detail_bars(index),
                           slippage=slippage)
        return found[1] if found is not None else None
    if code == kernel.TAKE_PROFIT and target is not None:
        return Match(target, Liquidity.MAKER, gapped=bar.open != target and price != float(target))
    if stop is not None:
        raw = stop_fill_price(side, bar, stop)  # the stop, or the open on a gap (sim.matching's rule)
        return Match(slippage.apply(raw, side), Liquidity.TAKER, gapped=raw != stop)
    return None


def compute_signals(strategy: Strategy, candles: Mapping[Symbol, CandleFrame]) -> dict[Symbol, SignalFrame]:
    """Return the strategy's signal frame for each pair (one vectorised pass per pair)."""
    return {symbol: strategy.compute(frame) for symbol, frame in candles.items()}


def simulate(signals: Mapping[Symbol, SignalFrame], candles: Mapping[Symbol, CandleFrame],
             markets: Mapping[Symbol, MarketSpec], settings: BacktestSettings, *,
             detail: Mapping[Symbol, CandleFrame] | None = None,
             progress: Progress | None = None) -> RunOutput:
    """Run the event-driven simulation over precomputed signals and return what happened."""
    tf = timeframe_ms(settings.timeframe)
    terms = settings.futures
    if terms is not None:
        markets = {s: m if m.futures is not None else as_swap(m, terms) for s, m in markets.items()}
    lanes = {s: Lane.build(s, candles[s], signals[s], tf, allow_short=settings.allow_short,
                           detail=(detail or {}).get(s)) for s in sorted(candles)}
    return _Simulation(lanes, markets, settings, progress).run()


class _Simulation:
    def __init__(self, lanes: Mapping[Symbol, Lane], markets: Mapping[Symbol, MarketSpec],
                 settings: BacktestSettings, progress: Progress | None) -> None:
        missing = sorted(set(lanes) - set(markets))
        if missing:
            raise ValueError(f"no market description for {', '.join(missing)}")
        risks = [settings.risk, *(risk for _, risk in settings.risk_changes)]
        for risk in risks:
            if risk.max_positions_per_pair != 1:
                # a pair's next event is either its next entry or its position's exit, never both
                raise InputError("the backtest holds at most one position per pair: set "
                                 f"risk.max_positions_per_pair = 1 (got {risk.max_positions_per_pair})")
        self.lanes = lanes
        self.settings = settings
        # One engine config per risk regime; regime r is in force from change_ms[r - 1] on.
        self.configs = [EngineConfig(settings.strategy, risk, dict(markets), allow_short=settings.allow_short)
                        for risk in risks]
        self.change_ms = [at for at, _ in settings.risk_changes]
        if self.change_ms != sorted(self.change_ms):
            raise ValueError("risk_changes must be in time order")
        self.config = self.configs[0]  # markets and the first regime
        self.ledger = SimLedger({settings.quote: settings.start_balance}, markets.values(),
                                fees=settings.fees, slippage=settings.slippage)
        # the engine's own float view of the trailing rule, per regime and pair
        self.trails = [{s: config.context(s).trail for s in lanes} for config in self.configs]
        self.timeline = Timeline.build(lanes, settings.risk.timezone, settings.quote)
        self.state = EngineState()
        self.queue = EventQueue()
        self.pending = Execution()
        self.closed: list[Position] = []
        self.stops = StopLog()
        self.steps = 0
        self.last_ms: int | None = None
        self.progress = progress
        self.funding_paid: list[tuple[datetime, Decimal]] = []
        self.funded_ms = -1  # funding times up to here are charged

    def run(self) -> RunOutput:
        for symbol, lane in self.lanes.items():
            first = lane.next_candidate(0)
            if first is not None:
                self.queue.push(lane.close_time(first), CLOSE_PHASE, symbol, Candidate(first))
        while self.queue:
            time_ms, phase, batch = self.queue.pop_batch()
            self._process(time_ms, phase, batch)
            if self.progress is not None:
                self.progress(self.timeline.fraction(time_ms))
        self._finish()
        fills = tuple(self.ledger.fills_since(ms_to_datetime(0)))
        return RunOutput(tuple(self.closed), fills, self.lanes, self.timeline, self.steps,
                         self.stops.report(), tuple(self.funding_paid))

    # ── one instant ──────────────────────────────────────────────────────────────────────────
    def _process(self, time_ms: int, phase: int, batch: list[tuple[Symbol, Payload]]) -> None:
        now = ms_to_datetime(time_ms)
        funding = self._charge_funding(time_ms)  # before this instant's fills change the holdings
        # Equity seen at closes since the last step, before this instant's fills change the holdings;
        # a fill instant also covers the close at the same time (closes come before the open).
        marks = self.timeline.equity_marks(self.last_ms, time_ms, self.ledger, self.state.risk,
                                           self._config_at(time_ms).risk, inclusive=phase == FILL_PHASE)
        self.last_ms = time_ms
        updates: list[OrderUpdate] = []
        prices: dict[Symbol, PriceUpdated] = {}
        signals: dict[Symbol, Signal] = {}
        for symbol, payload in batch:
            lane = self.lanes[symbol]
            if isinstance(payload, Candidate | CloseDecision):
                if isinstance(payload, CloseDecision):
                    self._sync(symbol, payload.stop, payload.high_water)
                prices[symbol] = lane.price_update(payload.index)
                signals[symbol] = lane.signal(payload.index)
            elif isinstance(payload, MarketFill):
                updates += fill_updates(self.ledger.on_bar(symbol, lane.bar(payload.index)), self.ledger)
            else:
                self._sync(symbol, payload.stop, payload.high_water)
                updates += self._protective_fill(lane, payload, now)
        self._step(time_ms, updates=updates, prices=prices, signals=signals, marks=marks, funding=funding)
        for symbol, payload in batch:
            self._schedule(symbol, payload.index, phase, isinstance(payload, ProtectiveExit))

    def _step(self, time_ms: int, *, updates: list[OrderUpdate],
              prices: Mapping[Symbol, PriceUpdated] | None = None,
              signals: Mapping[Symbol, Signal] | None = None,
              exits: Mapping[Symbol, ExitReason] | None = None,
              marks: tuple[tuple[datetime, Decimal], ...] = (),
              funding: Mapping[Symbol, Decimal] | None = None) -> StepOutput:
        now = ms_to_datetime(time_ms)
        later, self.pending.later = self.pending.later, []
        account = self.ledger.snapshot(self.settings.quote, self._marks_at(time_ms), with_balances=False)
        inp = StepInput(now, account, self._config_at(time_ms), order_updates=(*later, *updates),
                        prices=prices or {}, signals=signals or {},
                        exit_requests=exits or {}, equity_marks=marks, funding=funding or {})
        out = step(self.state, inp)
        self.steps += 1
        self.stops.observe(self.state.risk, out)
        self.state = out.state
        self.closed += [e.position for e in out.events if isinstance(e, PositionClosed)]
        execute(out.commands, self.ledger, now, self.pending)
        if self.pending.urgent:
            urgent, self.pending.urgent = self.pending.urgent, []
            return self._step(time_ms, updates=urgent)
        return out

    def _charge_funding(self, time_ms: int) -> dict[Symbol, Decimal]:
        """Charge the funding times in (last charged, ``time_ms``] on the swap positions held; per pair.

        Holdings only change inside ``_process``, so what is held now was held at every funding time
        since the previous instant; a fill at a funding time comes after that time's charge.
        """
        paid: dict[Symbol, Decimal] = {}
        for symbol, rates in self.settings.funding.items():
            if symbol not in self.lanes or not self.ledger.held(symbol):
                continue
            for at_ms, rate in rates:
                if self.funded_ms < at_ms <= time_ms:
                    mark = self.lanes[symbol].last_close(at_ms) or self.lanes[symbol].bar(0).open
                    amount = self.ledger.charge_funding(symbol, rate, mark)
                    paid[symbol] = paid.get(symbol, Decimal(0)) + amount
                    self.funding_paid.append((ms_to_datetime(at_ms), amount))
        self.funded_ms = time_ms
        return paid

    def _regime(self, time_ms: int) -> int:
        """Return the index of the risk regime in force at ``time_ms``."""
        return bisect_right(self.change_ms, time_ms)

    def _config_at(self, time_ms: int) -> EngineConfig:
        return self.configs[self._regime(time_ms)]

    def _marks_at(self, time_ms: int) -> dict[Symbol, Decimal]:
        """Return the last close of every pair the account holds (all the snapshot needs)."""
        prices = {}
        for symbol, lane in self.lanes.items():
            if self.ledger.held(symbol):
                price = lane.last_close(time_ms)
                prices[symbol] = price if price is not None else lane.bar(0).open
        return prices

    # ── what happens next for a pair ─────────────────────────────────────────────────────────
    def _schedule(self, symbol: Symbol, index: int, phase: int, was_exit: bool) -> None:
        lane = self.lanes[symbol]
        if any(o.type is OrderType.MARKET for o in self.ledger.open_orders(symbol)):
            if index + 1 < len(lane):
                self.queue.push(lane.open_time(index + 1), FILL_PHASE, symbol, MarketFill(index + 1))
            return
        position = self._position(symbol)
        if position is not None:
            if position.status is PositionStatus.OPEN:
                start = index + 1 if phase == CLOSE_PHASE or was_exit else index
                self._search(lane, position, start)
            return
        nxt = lane.next_candidate(index + 1 if phase == CLOSE_PHASE else index)
        if nxt is not None:
            self.queue.push(lane.close_time(nxt), CLOSE_PHASE, symbol, Candidate(nxt))

    def _search(self, lane: Lane, position: Position, start: int) -> None:
        stop_d, target_d = resting_levels(position, self.config.markets[lane.symbol])
        stop = math.nan if stop_d is None else float(stop_d)
        target = math.nan if target_d is None else float(target_d)
        entry = position.entry_price or Decimal(0)
        levels = kernel.PositionLevels(position.is_long, float(entry), stop, target,
                                       float(position.high_water or entry))
        while True:  # one kernel search per risk regime: the trailing rule may change at a boundary
            regime = self._regime(lane.close_time(min(start, len(lane) - 1)))
            end = len(lane) if regime == len(self.change_ms) else min(len(lane), lane.first_closing_at(
                self.change_ms[regime]))
            opens, highs, lows, closes = lane.ohlc
            candles = (opens[:end], highs[:end], lows[:end], closes[:end])
            flags = self._decision_flags(lane, position, regime)
            found = kernel.find_exit(candles, flags[:end], start, levels, self.trails[regime][lane.symbol],
                                     has_detail=lane.detail is not None)
            if found.code != kernel.NONE or end >= len(lane) or end <= start:
                break
            # the next regime goes on from the levels this one reached (what the skipped ticks did)
            levels = kernel.PositionLevels(position.is_long, float(entry), found.stop, target,
                                           found.high_water)
            start = end
        if found.code == kernel.NONE:
            return
        if found.code == kernel.CLOSE:
            payload: Payload = CloseDecision(found.index, found.stop, found.high_water)
            self.queue.push(lane.close_time(found.index), CLOSE_PHASE, lane.symbol, payload)
        else:
            payload = ProtectiveExit(found.index, found.code, found.price, found.stop, found.high_water)
            self.queue.push(lane.open_time(found.index), FILL_PHASE, lane.symbol, payload)

    def _decision_flags(self, lane: Lane, position: Position, regime: int) -> BoolArray:
        """Return the candles whose close makes ``step`` decide: exit signals, and the close that
        reaches the next DCA safety level (``positions.dca``, the same float comparison)."""
        flags = lane.exit_flags(position.is_long)
        level = dca.trigger_level(position, self.configs[regime].risk.dca)
        if level is None:
            return flags
        closes = lane.ohlc[3]
        return flags | (closes <= level if position.is_long else closes >= level)

    # ── kernel results into the engine and the ledger ────────────────────────────────────────
    def _sync(self, symbol: Symbol, stop: float, high_water: float) -> None:
        """Write the kernel's trailing stop and high-water mark into the position (see module doc)."""
        position = self._position(symbol)
        if position is None or position.entry_price is None:
            return
        synced = synced_levels(position, self.config.markets[symbol], stop, high_water)
        if synced is not position:
            positions = dict(self.state.positions)
            positions[position.id] = synced
            state = self.state
            self.state = EngineState(positions, state.orders, state.risk, state.history, state.sequence,
                                     state.entries_blocked)

    def _protective_fill(self, lane: Lane, event: ProtectiveExit, now: datetime) -> list[OrderUpdate]:
        position = self._position(lane.symbol)
        order_id = working_id(position) if position is not None else None
        if position is None or order_id is None:
            return []
        match = protective_match(position, self.config.markets[lane.symbol], lane, event.index, event.code,
                                 event.price, self.settings.slippage)
        fill = None if match is None else self.ledger.settle(order_id, match, now)
        return fill_updates([fill] if fill is not None else [], self.ledger)

    def _position(self, symbol: Symbol) -> Position | None:
        for position in self.state.positions.values():
            if position.symbol == symbol:
                return position
        return None

    # ── end of data ──────────────────────────────────────────────────────────────────────────
    def _finish(self) -> None:
        """Close what is still open at the last close (END_OF_DATA) through the same step path."""
        active = sorted({p.symbol for p in self.state.positions.values()})
        if not active:
            return
        end_ms = max(lane.close_time(len(lane) - 1) for lane in self.lanes.values())
        marks = self.timeline.equity_marks(self.last_ms, end_ms, self.ledger, self.state.risk,
                                           self._config_at(end_ms).risk)
        self._step(end_ms, updates=[], exits=dict.fromkeys(active, ExitReason.END_OF_DATA), marks=marks)
        updates: list[OrderUpdate] = []
        for symbol in active:
            lane = self.lanes[symbol]
            last = lane.bar(len(lane) - 1)
            tick = type(last).tick(lane.close_time(len(lane) - 1), last.close)
            updates += fill_updates(self.ledger.on_bar(symbol, tick), self.ledger)
        self._step(end_ms, updates=updates)


__all__ = ["BacktestSettings", "Progress", "RunOutput", "compute_signals", "protective_match",
           "resting_levels", "simulate", "synced_levels"]
