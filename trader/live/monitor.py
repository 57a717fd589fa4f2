"""ProtectionMonitor: between candle ticks, keep every position protected and every order resolved.

``run_once`` (every ``SchedulerConfig.monitor_interval_seconds``):

1. execute what is left in the outbox: intents whose outcome was unknown are looked up by client id
   and adopted, or sent again with the same client id (never a duplicate);
2. one engine cycle over every pair with our orders or positions: fills and status changes of our
   orders (stops and take-profits that filled, orders the venue dropped) and, per active pair, the
   last price as a tick (watched stops and targets, trailing moves), all through ``engine.step``;
3. the unprotected-position alarm: an OPEN position with neither a resting stop on the venue nor an
   engine-watched stop for longer than one monitor interval raises an error alert.

``risk_check`` records equity through ``step`` (daily loss, drawdown halt, with alerts) and
``heartbeat`` returns a small liveness summary.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from trader.core.domain.alerts import Alert, Severity
from trader.core.domain.enums import OrderPurpose, OrderStatus, OrderType, ProtectionKind
from trader.core.domain.ids import PositionId, Symbol
from trader.core.errors import RetryableError
from trader.core.positions.position_events import PriceUpdated
from trader.core.positions.state import Position, PositionStatus, Working
from trader.live.engine_runner import CycleInput, CycleResult, EngineRunner
from trader.live.execution import Checkpoint, no_checkpoint
from trader.ports.store import OrderRecord

logger = logging.getLogger(__name__)

_RESTING = frozenset({OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED})


@dataclass(frozen=True, slots=True)
class MonitorReport:
    """What one monitor pass did."""

    at: datetime
    sent: int
    unresolved: int
    unprotected: tuple[PositionId, ...]
    alarmed: tuple[PositionId, ...]


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Liveness summary: time, open positions, commands waiting in the outbox, entry block."""

    at: datetime
    open_positions: int
    outbox: int
    entries_blocked: str


def is_protected(position: Position, records: list[OrderRecord]) -> bool:
    """Return True when a stop rests on the venue for ``position`` or the engine watches its stop."""
    if position.status is PositionStatus.ERROR:
        return position.open_amount <= 0 or _resting_stop(position, records)
    if position.status is not PositionStatus.OPEN:
        return True  # pending entries hold nothing; exiting ones have their market exit working
    if position.stop_price is not None and (
            position.protection is ProtectionKind.WATCHED or position.working is Working.TAKE_PROFIT):
        return True  # the engine watches the stop (no native stops, or the target is swapped in)
    return _resting_stop(position, records)


def _resting_stop(position: Position, records: list[OrderRecord]) -> bool:
    return any(r.position_id == position.id and r.status in _RESTING
               and (r.purpose is OrderPurpose.STOP or r.type is OrderType.OCO) for r in records)


class ProtectionMonitor:
    """Resolve pending intents, book fills and triggers, trail stops, and alarm on unprotected positions."""

    def __init__(self, runner: EngineRunner, interval: timedelta, *, prices: bool = True,
                 checkpoint: Checkpoint = no_checkpoint) -> None:
        self._runner = runner
        self._interval = interval
        self._prices = prices
        self._checkpoint = checkpoint
        self._unprotected_since: dict[PositionId, datetime] = {}
        self._alarmed: set[PositionId] = set()

    async def run_once(self) -> MonitorReport:
        """Run one pass (see the module doc) and return what it found."""
        drained = await self._runner.drain()
        await self._checkpoint("monitor_mid")
        snap = await self._runner.snapshot()
        # pair groups' legs too: their orders fill (and a paper venue matches them) on the prices read here
        symbols = sorted({p.symbol for p in snap.state.positions.values()}
                         | {s for g in snap.state.groups.values() for s in g.symbols})
        ticks = await self._ticks(symbols) if self._prices else {}
        result = await self._runner.cycle(CycleInput(prices=ticks, all_pairs=tuple(symbols)), None)
        unprotected, alarmed = await self.alarm()
        return MonitorReport(self._runner.clock.now(), drained.sent + result.sent, result.unresolved,
                             unprotected, alarmed)

    async def _ticks(self, symbols: list[Symbol]) -> dict[Symbol, PriceUpdated]:
        now = self._runner.clock.now()
        ticks: dict[Symbol, PriceUpdated] = {}
        for symbol in symbols:
            try:
                price = await self._runner.exchange.last_price(symbol)
            except RetryableError as exc:
                logger.warning("monitor: no price for %s: %s", symbol, exc)
                continue
            ticks[symbol] = PriceUpdated(price, price, price, now)
        return ticks

    async def alarm(self) -> tuple[tuple[PositionId, ...], tuple[PositionId, ...]]:
        """Alarm once per position left without a stop for over one interval; store reads only.

        Returns (unprotected, newly alarmed). The venue's breaker calls it while the venue is down and
        the monitor's own pass cannot get that far.
        """
        now = self._runner.clock.now()
        snap = await self._runner.snapshot()
        async with self._runner.uow_factory() as uow:
            records = await uow.orders.open()
        naked = [p for p in snap.state.positions.values() if not is_protected(p, records)]
        for gone in set(self._unprotected_since) - {p.id for p in naked}:
            del self._unprotected_since[gone]
            self._alarmed.discard(gone)
        alarms: list[Alert] = []
        alarmed: list[PositionId] = []
        for position in naked:
            since = self._unprotected_since.setdefault(position.id, now)
            if now - since >= self._interval and position.id not in self._alarmed:
                self._alarmed.add(position.id)
                alarmed.append(position.id)
                alarms.append(Alert(
                    "error", f"UNPROTECTED: {position.symbol} position {position.id} ({position.open_amount} "
                             f"{position.symbol.split('/')[0]}) has had no stop for {now - since}",
                    Severity.CRITICAL, dedupe_key=f"unprotected:{position.id}"))
        if alarms:
            await self._runner.announce(alarms)
        return tuple(p.id for p in naked), tuple(alarmed)

    async def risk_check(self) -> CycleResult:
        """Record the account equity through ``step``: daily loss and drawdown guards, with alerts."""
        return await self._runner.cycle(CycleInput(), None)

    async def heartbeat(self) -> Heartbeat:
        """Return the liveness summary (the scheduler logs it; queries may show it)."""
        snap = await self._runner.snapshot()
        beat = Heartbeat(self._runner.clock.now(), len(snap.state.positions), len(snap.outbox),
                         snap.state.entries_blocked)
        logger.info("heartbeat: %d open position(s), %d command(s) in the outbox%s", beat.open_positions,
                    beat.outbox, f", entries blocked: {beat.entries_blocked}" if beat.entries_blocked else "")
        return beat
