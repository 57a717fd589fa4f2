"""One engine cycle over ports: gather order updates -> ``step`` -> persist -> execute -> persist -> announce.

Shared by the trading service (ticks and control actions), the protection monitor and reconciliation,
so every path that changes positions runs the same ``engine.step`` and the same outbox discipline:

1. read the venue (statuses, then fills) with no transaction open;
2. one transaction: record fills and statuses, ``step``, store the new state, every command in the
   outbox and a PENDING order record per new order (deterministic client id), the alerts; commit;
3. execute the outbox in order through the Exchange port (idempotent on client id); stop at the first
   unknown outcome and leave it, and everything behind it, in the outbox;
4. one transaction: record the results, drop the executed commands, feed the resulting updates to
   ``step`` again (a stop right after an entry fill), store; commit; repeat while there are commands.

A crash anywhere leaves either the intent (re-run from the outbox: same client ids, never a second
order) or the result (already stored) in the store. The in-memory snapshot is dropped on any error and
reloaded from the store, so memory never runs ahead of what is durable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from trader.config.sections import RiskConfig
from trader.core.domain.alerts import Alert
from trader.core.domain.commands import PlaceOrder, ReplaceStop
from trader.core.domain.enums import ExitReason
from trader.core.domain.futures import StrategyTrading
from trader.core.domain.ids import PositionId, Symbol
from trader.core.domain.market import MarketSpec
from trader.core.engine.actions import ClosePosition, ControlAction
from trader.core.engine.events import EngineEvent, GroupClosed, PositionClosed
from trader.core.engine.inputs import EngineConfig, StepInput, StepOutput
from trader.core.engine.orders import OrderUpdate
from trader.core.engine.pair_groups import PairSignal
from trader.core.engine.step import step
from trader.core.positions.position_events import PriceUpdated
from trader.core.strategies.base import Signal
from trader.live import engine_store
from trader.live.alerts import AlertService
from trader.live.engine_store import EngineSnapshot
from trader.live.execution import (
    Checkpoint,
    CommandExecutor,
    VenueResult,
    command_symbol,
    no_checkpoint,
    outbox_ids,
)
from trader.live.funding import FundingWatch
from trader.live.order_sync import VenueView, apply_venue, opens_first, read_venue, record_result
from trader.live.trade_alerts import event_alerts, risk_alerts
from trader.ports.clock import Clock
from trader.ports.exchange import Exchange
from trader.ports.metrics import NO_METRICS, EngineMetrics
from trader.ports.store import OrderRecord, UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger(__name__)

MAX_ROUNDS = 6  # step -> execute -> step rounds per cycle (entry fill -> stop placed -> ...)


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """The engine settings the services share: risk section, shorting, take-profit swap distance.

    ``trading`` says per strategy whether it shorts and, on perpetual swaps, with which leverage and
    margin mode; ``allow_short`` lets every strategy short (tests and tools).
    """

    risk: RiskConfig
    allow_short: bool = False
    tp_swap_distance: Decimal = Decimal("0.005")
    trading: Mapping[str, StrategyTrading] = field(default_factory=dict)
    leg_fractions: Mapping[str, Decimal] = field(default_factory=dict)  # pairs strategies' y leg fraction


@dataclass(frozen=True, slots=True)
class CycleInput:
    """What one cycle feeds ``step`` besides the order updates it gathers itself."""

    strategy: str = "engine"
    prices: Mapping[Symbol, PriceUpdated] = field(default_factory=dict)
    signals: Mapping[Symbol, Signal] = field(default_factory=dict)
    exit_requests: Mapping[Symbol, ExitReason] = field(default_factory=dict)
    order_updates: tuple[OrderUpdate, ...] = ()  # fed before the gathered ones (reconciliation's adoptions)
    all_pairs: tuple[Symbol, ...] = ()  # also read fills of these pairs (reconciliation, monitor)
    actions: tuple[ControlAction, ...] = ()  # control actions for ``step`` (halt, manual entry, ...)
    pair_signals: Mapping[str, PairSignal] = field(default_factory=dict)  # a pairs strategy's row per couple


@dataclass(frozen=True, slots=True)
class CycleResult:
    """What a cycle did: events, commands sent, commands left unresolved in the outbox."""

    events: tuple[EngineEvent, ...] = ()
    sent: int = 0
    unresolved: int = 0


def _venue_up() -> str:
    return ""


class EngineRunner:
    """Owns the engine snapshot, the lock that serialises cycles, and the executor."""

    def __init__(self, exchange: Exchange, uow_factory: UnitOfWorkFactory, clock: Clock,
                 options: EngineOptions, *, alerts: AlertService | None = None,
                 checkpoint: Checkpoint = no_checkpoint, metrics: EngineMetrics = NO_METRICS) -> None:
        self.exchange = exchange
        self.uow_factory = uow_factory
        self.clock = clock
        self.options = options
        self.alerts = alerts
        self.checkpoint = checkpoint
        self.metrics = metrics
        self.executor = CommandExecutor(exchange, checkpoint, metrics)
        self.funding = FundingWatch(lambda p: self.options.trading.get(p.strategy, StrategyTrading()).swap)
        self.lock = asyncio.Lock()
        # /close while the venue did not answer: stepped with the next cycle that reads the venue (the
        # monitor's, backed off by the breaker while it is down), then forgotten
        self.pending_closes: dict[PositionId, None] = {}
        self._snapshot: EngineSnapshot | None = None
        self._markets: dict[Symbol, MarketSpec] = {}
        # Why entries must wait for the venue ("" while it answers): the runtime's circuit breaker sets it.
        self.entry_gate: Callable[[], str] = _venue_up

    # ── state ───────────────────────────────────────────────────────────────────────────────
    async def snapshot(self) -> EngineSnapshot:
        """Return the current snapshot, loading it from the store the first time (or after an error)."""
        if self._snapshot is None:
            async with self.uow_factory() as uow:
                self._snapshot = await engine_store.load(uow)
            self.metrics.set_open_positions(self._snapshot.state.open_count)
        return self._snapshot

    def forget(self) -> None:
        """Drop the in-memory snapshot; the next cycle reloads it from the store."""
        self._snapshot = None

    async def market(self, symbol: Symbol) -> MarketSpec:
        """Return the market spec of ``symbol`` (cached)."""
        if symbol not in self._markets:
            self._markets[symbol] = await self.exchange.market(symbol)
        return self._markets[symbol]

    def config(self, strategy: str, markets: Mapping[Symbol, MarketSpec]) -> EngineConfig:
        """Return the EngineConfig ``step`` runs with for ``strategy``."""
        trading = self.options.trading.get(strategy, StrategyTrading())
        if trading.swap:
            markets = {symbol: trading.market_for(market) for symbol, market in markets.items()}
        return EngineConfig(strategy, self.options.risk, markets,
                            tp_swap_distance=self.options.tp_swap_distance,
                            allow_short=self.options.allow_short or trading.allow_short,
                            venue_down=self.entry_gate(),
                            pair_leg_fraction=self.options.leg_fractions.get(strategy, Decimal("0.3")))

    # ── one cycle ───────────────────────────────────────────────────────────────────────────
    async def cycle(self, inp: CycleInput, symbols: Iterable[Symbol] | None, *, manual: bool = False,
                    extra_alerts: Iterable[Alert] = ()) -> CycleResult:
        """Run one cycle (see the module doc); ``symbols`` None gathers every pair with open orders."""
        async with self.lock:
            try:
                return await self._cycle(inp, symbols, manual, tuple(extra_alerts))
            except BaseException:
                self.forget()
                raise

    async def dry_run(self, inp: CycleInput) -> StepOutput:
        """Return what ``step`` would do with ``inp`` now, changing, storing and sending nothing.

        The preview of a control action (``/buy``): the same ``step``, sizing and risk rules as the
        cycle that will execute it, on the current state and account.
        """
        async with self.lock:
            snap = await self.snapshot()
            account = await self.exchange.balances()
            markets = await self._markets_for(snap, inp)
            return step(snap.state, StepInput(self.clock.now(), account, self.config(inp.strategy, markets),
                                              inp.order_updates, inp.prices, inp.signals, inp.exit_requests,
                                              actions=inp.actions, pair_signals=inp.pair_signals))

    async def _markets_for(self, snap: EngineSnapshot, inp: CycleInput) -> dict[Symbol, MarketSpec]:
        active = {p.symbol for p in snap.state.positions.values()} | set(inp.prices) | set(inp.signals) \
            | {s for g in snap.state.groups.values() for s in g.symbols}
        return {s: await self.market(s) for s in sorted(active | set(inp.exit_requests))}

    async def _cycle(self, inp: CycleInput, symbols: Iterable[Symbol] | None, manual: bool,
                     extra_alerts: tuple[Alert, ...]) -> CycleResult:
        snap = before = await self.snapshot()
        wanted = None if symbols is None else set(symbols)
        view = await self._read(snap, wanted, inp.all_pairs)
        account = await self.exchange.balances()
        self.metrics.set_equity(account.equity)
        now = self.clock.now()
        funding = await self.funding.due(self.exchange, snap.state.positions.values(), now)
        markets = await self._markets_for(snap, inp)
        inp = self._with_pending_closes(snap, inp)
        async with self.uow_factory() as uow:
            updates = await apply_venue(uow, view, now)
            for given in inp.order_updates:  # adopted by reconciliation (a fill made by hand): keep it
                if given.fill is not None:
                    await uow.fills.add(given.fill)
            snap = replace(snap, fill_cursors=view.cursors)
            step_in = StepInput(now, account, self.config(inp.strategy, markets),
                                (*inp.order_updates, *updates), inp.prices, inp.signals, inp.exit_requests,
                                actions=inp.actions, funding=funding, pair_signals=inp.pair_signals)
            out = step(snap.state, step_in)
            alerts = [*extra_alerts, *risk_alerts(snap.state.risk, out.state.risk),
                      *event_alerts(out.events, manual=manual)]
            if updates or view.results or view.fills or out.commands or alerts or out.state != snap.state \
                    or view.cursors != before.fill_cursors:
                snap = await self._persist(uow, snap, out, now, alerts)
            # else: nothing changed (a flat pair's quiet candle): skip the write
        self.pending_closes.clear()  # stepped: they are the engine's now (persisted, in the outbox)
        await self.checkpoint("intent_persisted")
        events, sent, unresolved = await self._drain(snap, markets, inp.strategy)
        self._wake()
        return CycleResult((*out.events, *events), sent, unresolved)

    def _with_pending_closes(self, snap: EngineSnapshot, inp: CycleInput) -> CycleInput:
        asked = {a.position_id for a in inp.actions if isinstance(a, ClosePosition)}
        extra = tuple(ClosePosition(pid) for pid in self.pending_closes
                      if pid in snap.state.positions and pid not in asked)
        return replace(inp, actions=(*inp.actions, *extra)) if extra else inp

    async def drain(self) -> CycleResult:
        """Execute whatever is left in the outbox (after a crash or an unknown outcome)."""
        async with self.lock:
            try:
                snap = await self.snapshot()
                symbols = {p.symbol for p in snap.state.positions.values()}
                markets = {s: await self.market(s) for s in sorted(symbols)}
                events, sent, unresolved = await self._drain(snap, markets, "engine")
                self._wake()
                return CycleResult(events, sent, unresolved)
            except BaseException:
                self.forget()
                raise

    async def announce(self, alerts: Iterable[Alert]) -> None:
        """Store ``alerts`` in the alert outbox (no engine state changes here: those go through ``step``)."""
        async with self.uow_factory() as uow:
            await self._enqueue(uow, alerts)
            await uow.commit()
        self._wake()

    async def _read(self, snap: EngineSnapshot, symbols: set[Symbol] | None,
                    all_pairs: Iterable[Symbol] = ()) -> VenueView:
        if symbols is not None and not snap.state.orders and not snap.outbox:
            return VenueView((), (), snap.fill_cursors)  # nothing of ours can be resting on these pairs
        async with self.uow_factory() as uow:
            records = await uow.orders.open()
        waiting = outbox_ids(snap.outbox)
        # Intents still in the outbox are not resolved here: the drain below sends or looks them up.
        records = [r for r in records if r.client_order_id not in waiting
                   and (symbols is None or r.symbol in symbols)]
        return await read_venue(self.exchange, records, snap.fill_cursors, {*(symbols or ()), *all_pairs},
                                self.clock.now())

    async def _persist(self, uow: UnitOfWork, snap: EngineSnapshot, out: StepOutput, now: datetime,
                       alerts: Iterable[Alert]) -> EngineSnapshot:
        finished = [e.position for e in out.events if isinstance(e, PositionClosed)]
        finished += [leg for e in out.events if isinstance(e, GroupClosed) for leg in e.legs]  # pair trades
        snap = replace(snap, state=out.state, outbox=(*snap.outbox, *out.commands))
        for command in out.commands:
            if isinstance(command, PlaceOrder | ReplaceStop):
                await uow.orders.add(OrderRecord.from_request(command.request, now))
        stored = self._snapshot.state if self._snapshot is not None else None  # as last committed
        await engine_store.save(uow, snap, now, finished, before=stored)
        await self._enqueue(uow, alerts)
        await uow.commit()
        self._snapshot = snap
        self.metrics.set_open_positions(snap.state.open_count)
        return snap

    async def _enqueue(self, uow: UnitOfWork, alerts: Iterable[Alert]) -> None:
        if self.alerts is None:
            return
        for alert in alerts:
            await self.alerts.enqueue(uow, alert)

    def _wake(self) -> None:
        if self.alerts is not None:
            self.alerts.wake()

    async def _drain(self, snap: EngineSnapshot, markets: dict[Symbol, MarketSpec],
                     strategy: str) -> tuple[tuple[EngineEvent, ...], int, int]:
        events: list[EngineEvent] = []
        sent = 0
        blocked: set[Symbol] = set()  # pairs with an unknown outcome: the monitor tries them again
        for _ in range(MAX_ROUNDS):
            if all(command_symbol(c) in blocked for c in snap.outbox):
                break
            done, left = await self.executor.run_outbox(snap.outbox, blocked)
            sent += len(done)
            touched = {command_symbol(o.command) for o in done}
            fills_view = await read_venue(self.exchange, (), snap.fill_cursors, touched, self.clock.now())
            account = await self.exchange.balances()
            self.metrics.set_equity(account.equity)
            now = self.clock.now()
            for symbol in {p.symbol for p in snap.state.positions.values()} - set(markets):
                markets[symbol] = await self.market(symbol)
            async with self.uow_factory() as uow:
                updates = [u for o in done for r in o.results
                           if (u := await record_result(uow, r, now)) is not None]
                only_fills = VenueView((), fills_view.fills, fills_view.cursors)
                fill_updates = await apply_venue(uow, only_fills, now)
                snap = replace(snap, outbox=left, fill_cursors=fills_view.cursors)
                out = step(snap.state, StepInput(now, account, self.config(strategy, markets),
                                                 opens_first(updates, fill_updates)))
                events += out.events
                alerts = [*risk_alerts(snap.state.risk, out.state.risk), *event_alerts(out.events)]
                snap = await self._persist(uow, snap, out, now, alerts)
            await self.checkpoint("result_stored")
        return tuple(events), sent, len(snap.outbox)


__all__ = ["CycleInput", "CycleResult", "EngineOptions", "EngineRunner", "VenueResult"]
