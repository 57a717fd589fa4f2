"""Real parts for the live-engine e2e tests: SQLite file + migrations, the real ccxt client against the
fake Binance venue, the alert outbox with a recording channel, and a test strategy.

``LiveRig.start`` builds the service set; ``restart`` builds new instances over the same SQLite file
and the same fake venue, as a process restart would (nothing in memory survives).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import ClassVar

import numpy as np

from tests.fakes.fake_exchange import FakeExchange
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.adapters.exchange.retry import RetryPolicy
from trader.adapters.store.migrate import upgrade_async
from trader.adapters.store.sql.uow import Database
from trader.config.sections import ExchangeConfig, RiskConfig, TrailingConfig
from trader.core.domain.alerts import Alert
from trader.core.domain.candles import CandleFrame, datetime_to_ms
from trader.core.domain.enums import ProtectionKind
from trader.core.positions.state import PositionStatus
from trader.core.strategies.base import Param, SignalFrame, Strategy
from trader.live.alerts import AlertService
from trader.live.engine_runner import EngineOptions
from trader.live.execution import Checkpoint, no_checkpoint
from trader.live.monitor import ProtectionMonitor, is_protected
from trader.live.reconcile import Reconciler
from trader.live.trading import TradingService
from trader.ports.store import OrderRecord
from trader.runtime.clock import SimClock

HOUR = 3_600_000
T0 = datetime(2023, 11, 14, 23, 0, 5, tzinfo=UTC)  # 5 s after a candle close, near the fake's clock
TRAILING = TrailingConfig(enabled=True, distance=Decimal("0.02"), min_step=Decimal("0.001"))
RISK = RiskConfig(risk_per_trade=Decimal("0.01"), max_position_pct=Decimal("0.25"), trailing=TRAILING)
MONITOR_INTERVAL = timedelta(seconds=10)


class EnterAt(Strategy):
    """Test strategy: enter long on the candle that opens at ``at_ms``; never exits by signal.

    ``stop``/``target`` (absolute prices, 0 = none) ride on the entry signal, e.g. for a native bracket.
    """

    name: ClassVar[str] = "enter_at"
    params_spec = {"at_ms": Param(0, doc="open time (ms) of the entry candle"),  # noqa: RUF012
                   "stop": Param(0.0, doc="stop-loss price on the entry signal (0: the default stop)"),
                   "target": Param(0.0, doc="take-profit price on the entry signal (0: none)")}

    @property
    def required_history(self) -> int:
        return 20

    def compute(self, candles: CandleFrame) -> SignalFrame:
        n = len(candles)
        enter = candles.timestamp == self.int_param("at_ms")
        nan = np.full(n, np.nan)
        stop, target = self.float_param("stop"), self.float_param("target")
        stops = np.where(enter, stop, np.nan) if stop > 0 else nan
        targets = np.where(enter, target, np.nan) if target > 0 else nan
        return SignalFrame(candles.timestamp, enter, np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool),
                           np.where(enter, 1.0, 0.0), stops, targets, np.zeros(n, np.int64), ("",))


class RecordingChannel:
    """A notifier channel that keeps what it delivered (the Telegram channel is tested elsewhere)."""

    def __init__(self) -> None:
        self.sent: list[Alert] = []

    async def send(self, alert: Alert) -> None:
        self.sent.append(alert)


def flat_candles(end_open_ms: int, price: float, count: int = 60) -> list[list[float]]:
    """Return ``count`` flat hourly candles ending with the one that opens at ``end_open_ms``."""
    return [[end_open_ms - (count - 1 - i) * HOUR, price, price, price, price, 1.0] for i in range(count)]


@dataclass
class LiveRig:
    """One 'process': exchange client, services and clock over a shared database and fake venue."""

    fake: FakeExchange
    config: ExchangeConfig
    url: str
    clock: SimClock
    channel: RecordingChannel = field(default_factory=RecordingChannel)
    checkpoint: Checkpoint = no_checkpoint
    bracket: tuple[float, float] = (0.0, 0.0)  # (stop, target) on the entry signal; 0 = none
    db: Database = field(init=False)
    exchange: CcxtExchange = field(init=False)
    alerts: AlertService = field(init=False)
    trading: TradingService = field(init=False)
    monitor: ProtectionMonitor = field(init=False)
    reconciler: Reconciler = field(init=False)

    def __post_init__(self) -> None:
        self.db = Database.from_url(self.url)
        policy = RetryPolicy(attempts=5, base_delay=0.01, max_delay=0.05)
        self.exchange = CcxtExchange(self.config, retry=policy, rate_limit=False)
        self.alerts = AlertService(self.db.uow_factory, self.channel, self.clock)
        strategy = EnterAt(at_ms=datetime_to_ms(T0) // HOUR * HOUR - HOUR, stop=self.bracket[0],
                           target=self.bracket[1])
        self.trading = TradingService(self.exchange, self.db.uow_factory, self.clock, EngineOptions(RISK),
                                      {strategy.name: strategy}, alerts=self.alerts,
                                      checkpoint=self.checkpoint)
        self.monitor = ProtectionMonitor(self.trading.runner, MONITOR_INTERVAL, checkpoint=self.checkpoint)
        self.reconciler = Reconciler(self.trading.runner, ["BTC/USDT"])

    @classmethod
    async def start(cls, fake: FakeExchange, config: ExchangeConfig, url: str,
                    checkpoint: Checkpoint = no_checkpoint,
                    bracket: tuple[float, float] = (0.0, 0.0)) -> LiveRig:
        await upgrade_async(url)
        fake.venue.now_ms = datetime_to_ms(T0)
        fake.set_candles("BTC/USDT", "1h", flat_candles(datetime_to_ms(T0) // HOUR * HOUR - HOUR, 50000.0))
        fake.set_price("BTC/USDT", "50000")
        return cls(fake, config, url, SimClock(T0), checkpoint=checkpoint, bracket=bracket)

    async def restart(self, checkpoint: Checkpoint = no_checkpoint) -> LiveRig:
        """Return a fresh 'process' over the same database and venue (the old one is closed)."""
        await self.close()
        return LiveRig(self.fake, self.config, self.url, self.clock, self.channel, checkpoint, self.bracket)

    async def close(self) -> None:
        await self.exchange.close()
        await self.db.dispose()

    async def delivered(self) -> list[Alert]:
        """Deliver the alert outbox and return everything the channel received so far."""
        while (await self.alerts.dispatch_once()).delivered:
            pass
        return self.channel.sent


    async def all_orders(self) -> list[OrderRecord]:
        """Return every stored order of every position."""
        async with self.db.uow() as uow:
            positions = [*await uow.positions.unfinished(), *await uow.positions.finished(limit=1000)]
            return [o for p in positions for o in await uow.orders.for_position(p.id)]

    async def check_invariants(self) -> None:
        """Assert: no duplicate order on the venue, every order and fill stored once, every open position
        protected (a stop resting on the venue or watched by the engine)."""
        venue = self.fake.venue
        accepted = Counter(e.client_id for e in venue.accepted())
        assert all(n == 1 for n in accepted.values()), f"duplicate orders on the venue: {accepted}"
        stored = Counter(o.client_order_id for o in await self.all_orders())
        assert all(n == 1 for n in stored.values())
        missing = set(accepted) - set(stored)
        assert not missing, f"venue orders missing in the store: {missing}"
        async with self.db.uow() as uow:
            fills = await uow.fills.since(datetime(1970, 1, 1, tzinfo=UTC))
            records = await uow.orders.open()
            open_positions = await uow.positions.unfinished()
        assert sorted(f.trade_id for f in fills) == sorted(e.detail["trade_id"] for e in venue.fills())
        for position in open_positions:
            assert is_protected(position, records), f"{position.id} is unprotected"
            if position.protection is ProtectionKind.NATIVE and position.status is PositionStatus.OPEN:
                pair = position.symbol.replace("/", "")
                resting = [o for o in venue.open_orders(pair) if o.type == "STOP_LOSS"]
                step = venue.market(pair).step_size  # the stop sells what is held, rounded down
                assert len(resting) == 1 and 0 <= position.open_amount - resting[0].qty < step


class SimulatedCrash(BaseException):
    """Raised by a checkpoint to stop the 'process' dead at that point (BaseException: nothing catches it)."""


def crash_at(name: str, *, after: int = 1) -> Checkpoint:
    """Return a checkpoint that raises SimulatedCrash the ``after``-th time ``name`` is reached."""
    seen = {"n": 0}

    async def checkpoint(point: str) -> None:
        if point == name:
            seen["n"] += 1
            if seen["n"] == after:
                raise SimulatedCrash(point)

    return checkpoint
