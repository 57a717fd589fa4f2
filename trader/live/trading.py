"""TradingService: strategy ticks and control actions, all through ``engine.step`` and the outbox.

``run_tick(strategy, symbol, timeframe)``: closed candles (cached) -> ``Strategy.latest`` on the last
closed candle (the same ``compute`` the backtest runs) -> one engine cycle (see ``engine_runner``:
gather order updates -> step -> persist intents -> execute -> persist results -> announce). Control
actions (close, close all, forced entry, halt, pause, resume, unlock, the reconciliation entry block)
are ``StepInput`` fields or ``engine.actions`` run by the same cycle, so a manual close and a stop-out,
a manual entry and a strategy's entry, are booked by the same code; a manual entry's preview is
that same ``step`` run dry. Only ports are used: the live, paper and replay
modes differ in the Exchange and Clock they are given, never in here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from trader.core.domain.alerts import Alert, Severity
from trader.core.domain.candles import CandleFrame, datetime_to_ms, ms_to_datetime, timeframe_ms
from trader.core.domain.entries import Approved, RefusalReason, Refused
from trader.core.domain.enums import Direction, ExitReason
from trader.core.domain.ids import PositionId, Symbol
from trader.core.engine.actions import ClosePosition, EnterManually, Halt, Pause, Resume, Unlock
from trader.core.engine.events import (
    EngineEvent,
    EntryApproved,
    EntryRefused,
    PositionClosed,
    PositionFailed,
    PositionOpened,
    StopMoved,
)
from trader.core.engine.pair_groups import PairSignal
from trader.core.engine.state import EngineState
from trader.core.errors import DataError, InputError, InvariantViolation, RetryableError, StrategyError
from trader.core.positions.position_events import PriceUpdated
from trader.core.strategies.base import Signal, Strategy
from trader.core.strategies.pair_setup import PairSetup
from trader.live.alerts import AlertService
from trader.live.candle_feed import CandleCache
from trader.live.engine_runner import CycleInput, CycleResult, EngineOptions, EngineRunner
from trader.live.execution import Checkpoint, no_checkpoint
from trader.live.venue_words import unanswered, venue_name
from trader.ports.clock import Clock
from trader.ports.exchange import Exchange
from trader.ports.metrics import NO_METRICS, EngineMetrics
from trader.ports.store import UnitOfWorkFactory

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TickReport:
    """What one tick saw and did."""

    strategy: str
    symbol: Symbol
    candle_at: datetime | None  # open time of the closed candle the signal is for; None: no fresh candle
    signal: Signal | None
    events: tuple[EngineEvent, ...] = ()
    sent: int = 0
    unresolved: int = 0
    note: str = ""
    held: frozenset[Direction] = frozenset()  # directions this strategy held on the pair before the tick


@dataclass(frozen=True, slots=True)
class ActionResult:
    """Outcome of a control action; a refusal (``ok`` False) changed nothing."""

    ok: bool
    message: str
    refused_reason: str | None = None
    position_ids: tuple[str, ...] = ()
    events: tuple[EngineEvent, ...] = ()
    amount: Decimal | None = None  # a manual entry: the amount really sent (base)


class TradingService:
    """Run strategy ticks and control actions through the one engine cycle."""

    def __init__(self, exchange: Exchange, uow_factory: UnitOfWorkFactory, clock: Clock,  # noqa: PLR0913
                 options: EngineOptions, strategies: Mapping[str, Strategy], *,
                 alerts: AlertService | None = None, checkpoint: Checkpoint = no_checkpoint,
                 metrics: EngineMetrics = NO_METRICS, pairs: Mapping[str, PairSetup] | None = None) -> None:
        self.runner = EngineRunner(exchange, uow_factory, clock, options, alerts=alerts,
                                   checkpoint=checkpoint, metrics=metrics)
        self._metrics = metrics
        self._exchange = exchange
        self._clock = clock
        self._strategies = dict(strategies)
        self._pairs = dict(pairs or {})  # pairs strategies by name: one tick trades the couple as a group
        self._candles = CandleCache(exchange)
        self.last_tick_at: datetime | None = None

    # ── ticks ───────────────────────────────────────────────────────────────────────────────
    async def run_tick(self, strategy: str, symbol: str, timeframe: str) -> TickReport:
        """Run ``strategy`` on the last closed ``timeframe`` candle of ``symbol`` and act on its signal."""
        return (await self.run_ticks(strategy, [symbol], timeframe))[0]

    async def run_ticks(self, strategy: str, symbols: Sequence[str], timeframe: str) -> list[TickReport]:
        """Run ``strategy`` on several pairs' last closed candles in one step (exits before entries)."""
        if strategy in self._pairs:
            return await self._run_pair_tick(strategy, self._pairs[strategy], timeframe)
        started = time.perf_counter()  # latency is wall time even when the Clock is simulated (replay)
        strat = self._strategy(strategy)
        now = self._clock.now()
        tf = timeframe_ms(timeframe)
        expected = (datetime_to_ms(now) // tf) * tf - tf  # open time of the candle that closed last
        prices: dict[Symbol, PriceUpdated] = {}
        signals: dict[Symbol, Signal] = {}
        reports: dict[Symbol, TickReport] = {}
        snapshot = await self.runner.snapshot()  # what the strategy held before this tick
        for name in symbols:
            pair = Symbol(name)
            frame = await self._candles.closed(pair, timeframe, strat.required_history, now)
            if len(frame) == 0 or int(frame.timestamp[-1]) != expected:
                note = "no candle closed for this tick yet (venue late or data gap)"
                logger.warning("%s %s %s: %s", strategy, name, timeframe, note)
                reports[pair] = TickReport(strategy, pair, None, None, note=note)
                continue
            try:
                signal = _guarded(strat, frame, strategy, name)
            except StrategyError as exc:  # skip this pair for this tick and tell the user
                logger.error("%s", exc)
                await self.runner.announce([Alert(
                    "error", f"Strategy {strategy} failed on {name}; skipped this candle: {exc.__cause__}",
                    Severity.ERROR, dedupe_key=f"strategy:{strategy}:{name}")])
                reports[pair] = TickReport(strategy, pair, None, None, note=f"strategy failed: {exc}")
                continue
            i = len(frame) - 1
            prices[pair] = PriceUpdated(_dec(frame.high[i]), _dec(frame.low[i]), _dec(frame.close[i]),
                                        ms_to_datetime(expected + tf))
            signals[pair] = signal  # a reconciliation entry block refuses entries inside step
        result = CycleResult()
        if signals:
            result = await self.runner.cycle(CycleInput(strategy, prices, signals), list(signals))
        self.last_tick_at = now
        self._metrics.observe_tick(time.perf_counter() - started)
        at = ms_to_datetime(expected)
        for pair, signal in signals.items():
            mine = tuple(e for e in result.events if _symbol_of(e) == pair)
            held = frozenset(p.direction for p in snapshot.state.positions_for(pair)
                             if p.strategy == strategy and p.filled > 0)
            reports[pair] = TickReport(strategy, pair, at, signal, mine, result.sent, result.unresolved,
                                       held=held)
        return [reports[Symbol(s)] for s in symbols]

    async def _run_pair_tick(self, strategy: str, setup: PairSetup, timeframe: str) -> list[TickReport]:
        """Run a pairs strategy on both legs' last closed candle: group exits, then a group entry."""
        started = time.perf_counter()
        now = self._clock.now()
        tf = timeframe_ms(timeframe)
        expected = (datetime_to_ms(now) // tf) * tf - tf
        y, x = Symbol(setup.y), Symbol(setup.x)
        frames = [await self._candles.closed(s, timeframe, setup.required_history, now) for s in (y, x)]
        try:
            row = setup.latest(frames[0], frames[1])
        except StrategyError as exc:
            logger.error("%s", exc)
            return [TickReport(strategy, y, None, None, note=f"strategy failed: {exc}")]
        if row is None or row.timestamp != expected:
            note = "no candle closed on both legs for this tick yet (venue late or data gap)"
            logger.warning("%s %s/%s %s: %s", strategy, y, x, timeframe, note)
            return [TickReport(strategy, y, None, None, note=note)]
        close = ms_to_datetime(expected + tf)
        prices = {s: PriceUpdated(_dec(f.high[-1]), _dec(f.low[-1]), _dec(f.close[-1]), close)
                  for s, f in zip((y, x), frames, strict=True)}
        signal = PairSignal(y, x, row.beta, row.zscore, row.enter_long, row.enter_short, row.exit_long,
                            row.exit_short, row.stop_long, row.stop_short)
        if row.enter_long or row.enter_short:
            await self._read_prices((y, x))
        inp = CycleInput(strategy, prices, pair_signals={signal.key: signal})
        result = await self.runner.cycle(inp, [y, x])
        self.last_tick_at = now
        self._metrics.observe_tick(time.perf_counter() - started)
        note = f"z {row.zscore:.2f}, beta {row.beta:.3f}"
        return [TickReport(strategy, y, ms_to_datetime(expected), None, result.events, result.sent,
                           result.unresolved, note=note)]

    async def _read_prices(self, symbols: Sequence[Symbol]) -> None:
        """Read the legs' venue prices before a group entry: a paper venue values a market buy (and
        fills) on the last price read, and a leg refused for want of one would unwind the other."""
        for symbol in symbols:
            try:
                await self._exchange.last_price(symbol)
            except (RetryableError, DataError) as exc:  # the entry goes on; the venue answers for itself
                logger.warning("no price for %s before the pair entry: %s", symbol, exc)

    def use_strategies(self, strategies: Mapping[str, Strategy],
                       pairs: Mapping[str, PairSetup] | None = None) -> None:
        """Run ``strategies`` (and ``pairs``) from the next tick on (parameters changed or reloaded)."""
        self._strategies = dict(strategies)
        if pairs is not None:
            self._pairs = dict(pairs)

    def _strategy(self, name: str) -> Strategy:
        if name not in self._strategies:
            known = ", ".join(sorted(self._strategies)) or "none"
            raise InputError(f"unknown strategy {name!r}",
                             user_message=f"Unknown strategy {name}; running: {known}.")
        return self._strategies[name]

    # ── control ─────────────────────────────────────────────────────────────────────────────
    async def close_position(self, position_id: str, reason: str = "manual") -> ActionResult:
        """Close one position at market (a ``ClosePosition`` action of ``step``)."""
        state = await self.engine_state()
        position = state.positions.get(PositionId(position_id))
        group = state.groups.get(position_id)
        if group is not None:  # a pair group closes both legs together
            result = await self.runner.cycle(CycleInput(actions=(ClosePosition(PositionId(group.id)),)),
                                             list(group.symbols),
                                             extra_alerts=[_manual(f"Closing {position_id}: {reason}")])
            return ActionResult(True, f"closing both legs of {position_id} at market",
                                position_ids=(position_id,), events=result.events)
        if position is None:
            raise InputError(f"no open position {position_id}",
                             user_message=f"No open position {position_id}.")
        close = CycleInput(actions=(ClosePosition(position.id),))
        try:
            result = await self.runner.cycle(close, [position.symbol],
                                             extra_alerts=[_manual(f"Closing {position_id}: {reason}")])
        except RetryableError as exc:
            return self._close_later((position.id,), exc)
        return ActionResult(True, f"closing {position_id} at market", position_ids=(position_id,),
                            events=result.events)

    def _close_later(self, ids: tuple[PositionId, ...], error: RetryableError) -> ActionResult:
        """The venue did not answer: keep the close for the next cycle that reaches it (the monitor's,
        with the breaker's backoff while the venue is down) and say so in plain words."""
        for position_id in ids:
            self.runner.pending_closes[position_id] = None
        which = ids[0] if len(ids) == 1 else f"{len(ids)} positions"
        message = (f"{unanswered(venue_name(self._exchange), error)}. Nothing was sent yet: closing {which} "
                   "is retried with the protection monitor, backing off while the venue is down; "
                   "the protection on the venue stays as it is meanwhile")
        logger.warning("close of %s kept for the next cycle: %s", ", ".join(ids), error)
        return ActionResult(False, message, refused_reason="venue_unanswered", position_ids=ids)

    async def close_all(self, reason: str = "manual", *,
                        exit_reason: ExitReason = ExitReason.MANUAL) -> ActionResult:
        """Close every active position at market (``exit_reason`` END_OF_DATA when a replay ends)."""
        state = await self.engine_state()
        if not state.positions and not state.groups:
            return ActionResult(False, "no open positions", refused_reason="nothing_to_close")
        held = {p.symbol for p in state.positions.values()}
        held |= {s for g in state.groups.values() for s in g.symbols}
        symbols = sorted(held)
        try:
            result = await self.runner.cycle(
                CycleInput(exit_requests=dict.fromkeys(symbols, exit_reason)), symbols,
                extra_alerts=[_manual(f"Closing all positions: {reason}")])
        except RetryableError as exc:
            return self._close_later(tuple(state.positions), exc)
        return ActionResult(True, f"closing {len(state.positions) + len(state.groups)} position(s) at market",
                            position_ids=(*state.positions, *state.groups), events=result.events)

    def venue_refusal(self) -> Refused | None:
        """Return the refusal ``step`` gives every entry while the venue's breaker is open, else None.

        Manual entries ask first, so a venue that does not answer is not asked for a price only to
        refuse; the answer is the very value ``step`` would return.
        """
        why = self.runner.entry_gate()
        return Refused(RefusalReason.VENUE_DOWN, why) if why else None

    async def force_entry(self, symbol: str, direction: Direction, amount: Decimal | None,
                          strategy: str) -> ActionResult:
        """Open a position now: ``step`` sizes it (or takes ``amount``, base) through the same risk check."""
        pair = Symbol(symbol)
        down = self.venue_refusal()
        if down is not None:
            return ActionResult(False, str(down), refused_reason=down.reason.value)
        inp = await self._manual_entry(pair, direction, amount, strategy)
        result = await self.runner.cycle(inp, [pair], manual=True)
        return _entry_result(symbol, result.events)

    async def preview_entry(self, symbol: str, direction: Direction, amount: Decimal | None,
                            strategy: str) -> EntryPreview:
        """Return what ``force_entry`` would send now (``step`` run dry): the approval or the refusal."""
        pair = Symbol(symbol)
        inp = await self._manual_entry(pair, direction, amount, strategy)
        out = await self.runner.dry_run(inp)
        price = inp.prices[pair].close
        for event in out.events:
            if isinstance(event, EntryApproved) and event.symbol == pair:
                return EntryPreview(pair, price, event.decision, None)
            if isinstance(event, EntryRefused) and event.symbol == pair:
                return EntryPreview(pair, price, None, event.refusal)
        raise InvariantViolation(f"step neither approved nor refused the manual entry on {pair}")

    async def _manual_entry(self, pair: Symbol, direction: Direction, amount: Decimal | None,
                            strategy: str) -> CycleInput:
        price = await self._exchange.last_price(pair)
        tick = PriceUpdated(price, price, price, self._clock.now())
        return CycleInput(strategy, {pair: tick}, actions=(EnterManually(pair, direction, amount, strategy),))

    async def act_on_signal(self, symbol: str, signal: Signal, strategy: str) -> ActionResult:
        """Run an external signal (a webhook's) through the same cycle as a tick's: risk checks, sizing, step.

        The signal is priced at the venue's last price; a refusal by a rule comes back as a value, and
        so does a venue that does not answer (in plain words: nothing was stored or sent).
        """
        pair = Symbol(symbol)
        down = self.venue_refusal()
        if down is not None and (signal.enter_long or signal.enter_short):  # the breaker is open
            return ActionResult(False, str(down), refused_reason=down.reason.value)
        try:
            await self.runner.market(pair)  # an unknown pair fails here, before anything is stored
            price = await self._exchange.last_price(pair)
            snap = await self.runner.snapshot()
            tick = PriceUpdated(price, price, price, self._clock.now())
            result = await self.runner.cycle(CycleInput(strategy, {pair: tick}, {pair: signal}), [pair])
        except RetryableError as exc:
            logger.warning("signal for %s not acted on: %s", pair, exc)
            return ActionResult(False, f"{unanswered(venue_name(self._exchange), exc)}; the signal was not "
                                "acted on", refused_reason="venue_unanswered")
        refused = [e for e in result.events if isinstance(e, EntryRefused)]
        if refused:
            r = refused[0].refusal
            return ActionResult(False, str(r), refused_reason=r.reason.value, events=result.events)
        after = (await self.engine_state()).positions
        opened = tuple(sorted(p for p in after if p not in snap.state.positions))
        closed = sorted(e.position.id for e in result.events if isinstance(e, PositionClosed))
        touched = opened or tuple(closed)
        if not touched and not result.events:
            return ActionResult(False, "the signal changed nothing", refused_reason="no_effect")
        return ActionResult(True, f"signal acted on for {symbol}", position_ids=touched, events=result.events)

    async def halt(self, flatten: bool, reason: str) -> ActionResult:
        """Halt entries (persists across restarts); ``flatten`` also closes every position."""
        result = await self.runner.cycle(CycleInput(actions=(Halt(reason, flatten),)), None)
        return ActionResult(True, "halted" + (" and closing every position" if flatten else ""),
                            events=result.events)

    async def pause(self, reason: str) -> ActionResult:
        """Stop new entries; open positions keep their protection."""
        await self.runner.cycle(CycleInput(actions=(Pause(reason),)), None)
        return ActionResult(True, "paused")

    async def resume(self, reason: str = "") -> ActionResult:
        """Allow entries again; the drawdown peak restarts at the current equity."""
        await self.runner.cycle(CycleInput(actions=(Resume(reason),)), None)
        return ActionResult(True, "resumed")

    async def unlock(self, symbol: str) -> ActionResult:
        """Remove the entry cooldown of ``symbol``; refused when it has none."""
        snap = await self.runner.snapshot()
        if symbol not in snap.state.risk.cooldowns:
            return ActionResult(False, f"{symbol} is not locked", refused_reason="not_locked")
        await self.runner.cycle(CycleInput(actions=(Unlock(Symbol(symbol)),)), [])
        return ActionResult(True, f"{symbol} unlocked")

    # ── reads ───────────────────────────────────────────────────────────────────────────────
    async def engine_state(self) -> EngineState:
        """Return the engine state (positions, order refs, risk memory) as last stored."""
        return (await self.runner.snapshot()).state

    async def drain(self) -> CycleResult:
        """Execute whatever is left in the outbox (the monitor calls this too)."""
        return await self.runner.drain()


@dataclass(frozen=True, slots=True)
class EntryPreview:
    """A manual entry as ``step`` would send it now: ``approved`` (amount, stop, binding cap) or not."""

    symbol: Symbol
    price: Decimal  # the reference price risk sized with (the last traded price)
    approved: Approved | None
    refused: Refused | None


def _entry_result(symbol: str, events: Sequence[EngineEvent]) -> ActionResult:
    for event in events:
        if isinstance(event, EntryRefused):
            r = event.refusal
            return ActionResult(False, str(r), refused_reason=r.reason.value, events=tuple(events))
        if isinstance(event, EntryApproved):
            cap = f" (capped by {event.decision.capped_by})" if event.decision.capped_by else ""
            return ActionResult(True, f"entry of {event.decision.amount} {symbol} sent{cap}",
                                position_ids=(event.position_id,), events=tuple(events),
                                amount=event.decision.amount)
    raise InvariantViolation(f"step neither approved nor refused the manual entry on {symbol}")


def _guarded(strategy: Strategy, frame: CandleFrame, name: str, symbol: str) -> Signal:
    try:
        return strategy.latest(frame)
    except Exception as exc:  # plugin code must not break the engine (design section 6)
        raise StrategyError(f"{name} failed on {symbol}: {exc}") from exc


def _dec(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _symbol_of(event: EngineEvent) -> Symbol | None:
    if isinstance(event, EntryRefused | StopMoved):
        return event.symbol
    if isinstance(event, PositionOpened | PositionClosed | PositionFailed):
        return event.position.symbol
    return None


def _manual(text: str) -> Alert:
    return Alert("manual", text)


