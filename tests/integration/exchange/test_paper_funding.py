"""Paper trading of a perpetual on live prices pays the venue's real funding: the paper account (built
by ``build_exchange`` as ``tradebot run`` does) reads the funding-rate history from the fake's public
``/fapi/v1/fundingRate`` through real ccxt, charges each funding time once on the contracts held then,
and the engine books it on the position through ``step``; a restart over the same database books
nothing twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from tests.e2e.live_harness import HOUR, MONITOR_INTERVAL, RISK, T0, flat_candles
from tests.e2e.perp_harness import PAIR, PAIR_ID, TRADING, ShortAt
from tests.fakes.fake_exchange import FakeExchange
from trader.adapters.exchange import PaperExchange, build_exchange
from trader.adapters.store.migrate import upgrade_async
from trader.adapters.store.sql.uow import Database
from trader.config.sections import ExchangeConfig
from trader.core.domain.candles import datetime_to_ms
from trader.core.domain.enums import Direction
from trader.core.positions.state import Position
from trader.live.engine_runner import EngineOptions
from trader.live.monitor import ProtectionMonitor
from trader.live.trading import TradingService
from trader.runtime.clock import SimClock

D = Decimal
AMOUNT = D("0.05")  # what the risk caps allow at 10,000 USDT
FIRST = datetime_to_ms(T0) // HOUR * HOUR + HOUR  # the next full hour after the entry: a funding time
EIGHT_HOURS = 8 * HOUR


@dataclass
class PaperRig:
    """One 'process' paper-trading the BTC/USDT perpetual on the fake's public prices."""

    paper: PaperExchange
    trading: TradingService
    monitor: ProtectionMonitor
    db: Database

    @classmethod
    async def start(cls, config: ExchangeConfig, url: str, clock: SimClock) -> PaperRig:
        db = Database.from_url(url)
        paper = await build_exchange(config, clock, uow_factory=db.uow_factory, swap=True)
        assert isinstance(paper, PaperExchange)
        strategy = ShortAt(at_ms=0)
        options = EngineOptions(RISK, trading={strategy.name: TRADING})
        trading = TradingService(paper, db.uow_factory, clock, options, {strategy.name: strategy})
        return cls(paper, trading, ProtectionMonitor(trading.runner, MONITOR_INTERVAL), db)

    async def close(self) -> None:
        await self.paper.close()
        await self.db.dispose()

    async def position(self) -> Position:
        [position] = (await self.trading.engine_state()).positions.values()
        return position


def _advance(fake: FakeExchange, clock: SimClock, to_ms: int) -> None:
    """Move the clocks to ``to_ms`` (the fake's too, so its public answers are as of then)."""
    clock.advance(timedelta(milliseconds=to_ms - datetime_to_ms(clock.now())))
    fake.venue.now_ms = to_ms


async def test_a_paper_perpetual_pays_each_funding_time_once_also_across_a_restart(
        tmp_path: Path, fake_exchange: FakeExchange, fake_exchange_config: ExchangeConfig) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'paper.db'}"
    await upgrade_async(url)
    fake_exchange.venue.now_ms = datetime_to_ms(T0)
    fake_exchange.set_candles(PAIR, "1h", flat_candles(datetime_to_ms(T0) // HOUR * HOUR - HOUR, 50000.0))
    fake_exchange.set_price(PAIR, "50000")
    fake_exchange.futures.funding_rates[PAIR_ID] = [
        (FIRST, D("0.0001")), (FIRST + EIGHT_HOURS, D("-0.0003")), (FIRST + 2 * EIGHT_HOURS, D("0.0002"))]
    config = fake_exchange_config.model_copy(update={"mode": "paper", "paper_start_balance": D(10_000),
                                                     "paper_fee": D(0), "paper_slippage": D(0)})
    clock = SimClock(T0)
    rig = await PaperRig.start(config, url, clock)
    try:
        result = await rig.trading.force_entry(PAIR, Direction.SHORT, AMOUNT, "short_at")
        assert result.ok, result.message
        await rig.monitor.run_once()  # the paper venue fills on the next price it sees
        assert (await rig.position()).open_amount == AMOUNT
        equity = (await rig.paper.balances()).equity
        _advance(fake_exchange, clock, FIRST + 2 * 60_000)  # past the first funding time
        # the mark of the funding time is the 50000 fed before it; 50500 is still short of the stop
        fake_exchange.set_price(PAIR, "50500")
        for _ in range(3):  # several cycles in the same interval: charged and booked once
            await rig.monitor.run_once()
        first = AMOUNT * D(50000) * D("0.0001")  # the short receives a positive rate
        assert (await rig.position()).funding == -first
        assert (await rig.paper.balances()).equity == equity + first - AMOUNT * D(500)
        _advance(fake_exchange, clock, FIRST + 4 * HOUR)  # inside the interval: nothing new
        await rig.monitor.run_once()
        assert (await rig.position()).funding == -first
    finally:
        await rig.close()

    rig = await PaperRig.start(config, url, clock)  # a restart over the same database
    try:
        await rig.monitor.run_once()
        await rig.monitor.run_once()
        assert (await rig.position()).funding == -first  # not twice
        _advance(fake_exchange, clock, FIRST + EIGHT_HOURS + 2 * 60_000)
        await rig.monitor.run_once()
        second = -AMOUNT * D(50500) * D("0.0003")  # a negative rate: the short pays
        assert (await rig.position()).funding == -first - second
    finally:
        await rig.close()

    _advance(fake_exchange, clock, FIRST + 2 * EIGHT_HOURS + 2 * 60_000)  # a funding time while down
    rig = await PaperRig.start(config, url, clock)
    try:
        await rig.monitor.run_once()
        await rig.monitor.run_once()
        third = AMOUNT * D(50500) * D("0.0002")  # received again
        assert (await rig.position()).funding == -first - second - third  # charged after the restart, once
        charges = await rig.paper.funding_paid(PAIR, T0)
        assert [paid for _, paid in charges] == [-first, -second, -third]
    finally:
        await rig.close()
