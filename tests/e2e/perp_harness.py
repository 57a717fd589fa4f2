"""Real parts for the live perpetual e2e tests: a swap CcxtExchange (real ccxt, Binance USDⓈ-M dialect of
the fake), the trading service with a short strategy at 3x isolated, the protection monitor and
reconciliation over a SQLite file. ``restart`` builds new instances over the same file and venue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import ClassVar

import numpy as np

from tests.e2e.live_harness import HOUR, MONITOR_INTERVAL, RISK, T0, RecordingChannel, flat_candles
from tests.fakes.fake_exchange import FakeExchange
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.adapters.exchange.retry import RetryPolicy
from trader.adapters.store.migrate import upgrade_async
from trader.adapters.store.sql.uow import Database
from trader.config.sections import ExchangeConfig
from trader.core.domain.candles import CandleFrame, datetime_to_ms
from trader.core.domain.futures import StrategyTrading
from trader.core.positions.state import Position
from trader.core.strategies.base import Param, SignalFrame, Strategy
from trader.live.alerts import AlertService
from trader.live.engine_runner import EngineOptions
from trader.live.monitor import ProtectionMonitor
from trader.live.reconcile import Reconciler
from trader.live.trading import TradingService
from trader.runtime.clock import SimClock

PAIR, PAIR_ID = "BTC/USDT", "BTCUSDT"
LEVERAGE = Decimal(3)
TRADING = StrategyTrading(allow_short=True, swap=True, leverage=LEVERAGE, margin_mode="isolated")


class ShortAt(Strategy):
    """Test strategy: enter short on the candle that opens at ``at_ms``; never exits by signal."""

    name: ClassVar[str] = "short_at"
    params_spec = {"at_ms": Param(0, doc="open time (ms) of the entry candle")}  # noqa: RUF012

    @property
    def required_history(self) -> int:
        return 20

    def compute(self, candles: CandleFrame) -> SignalFrame:
        n = len(candles)
        enter = candles.timestamp == self.int_param("at_ms")
        none, nan = np.zeros(n, bool), np.full(n, np.nan)
        return SignalFrame(candles.timestamp, none, none, enter, none, np.where(enter, 1.0, 0.0), nan, nan,
                           np.zeros(n, np.int64), ("",))


@dataclass
class PerpRig:
    """One 'process' trading the BTC/USDT perpetual over a shared database and fake venue."""

    fake: FakeExchange
    config: ExchangeConfig
    url: str
    clock: SimClock
    channel: RecordingChannel = field(default_factory=RecordingChannel)
    db: Database = field(init=False)
    exchange: CcxtExchange = field(init=False)
    trading: TradingService = field(init=False)
    monitor: ProtectionMonitor = field(init=False)
    reconciler: Reconciler = field(init=False)

    def __post_init__(self) -> None:
        self.db = Database.from_url(self.url)
        policy = RetryPolicy(attempts=5, base_delay=0.01, max_delay=0.05)
        self.exchange = CcxtExchange(self.config, retry=policy, rate_limit=False, swap=True,
                                     perpetuals={PAIR: (LEVERAGE, "isolated")})
        alerts = AlertService(self.db.uow_factory, self.channel, self.clock)
        strategy = ShortAt(at_ms=datetime_to_ms(T0) // HOUR * HOUR - HOUR)
        options = EngineOptions(RISK, trading={strategy.name: TRADING})
        self.trading = TradingService(self.exchange, self.db.uow_factory, self.clock, options,
                                      {strategy.name: strategy}, alerts=alerts)
        self.monitor = ProtectionMonitor(self.trading.runner, MONITOR_INTERVAL)
        self.reconciler = Reconciler(self.trading.runner, [PAIR])

    @classmethod
    async def start(cls, fake: FakeExchange, config: ExchangeConfig, url: str) -> PerpRig:
        await upgrade_async(url)
        fake.venue.now_ms = datetime_to_ms(T0)
        fake.set_candles(PAIR, "1h", flat_candles(datetime_to_ms(T0) // HOUR * HOUR - HOUR, 50000.0))
        fake.set_price(PAIR, "50000")
        fake.perps.deposit("10000")
        return cls(fake, config, url, SimClock(T0))

    async def restart(self) -> PerpRig:
        """Return a fresh 'process' over the same database and venue (the old one is closed)."""
        await self.close()
        return PerpRig(self.fake, self.config, self.url, self.clock, self.channel)

    async def close(self) -> None:
        await self.exchange.close()
        await self.db.dispose()

    async def position(self) -> Position:
        """Return the one open position."""
        [position] = (await self.trading.engine_state()).positions.values()
        return position

    async def finished(self) -> list[Position]:
        """Return the closed positions."""
        async with self.db.uow() as uow:
            return list(await uow.positions.finished())

    def tick(self, price: str, seconds: int = 10) -> None:
        """Move the venue's price (triggering its stops) and the clocks together."""
        self.clock.advance(timedelta(seconds=seconds))
        self.fake.venue.now_ms = datetime_to_ms(self.clock.now())
        self.fake.set_price(PAIR, price)

    async def stored_trade_ids(self) -> list[str]:
        """Return the trade ids of every stored fill."""
        async with self.db.uow() as uow:
            return sorted(f.trade_id for f in await uow.fills.since(datetime(1970, 1, 1, tzinfo=UTC)))
