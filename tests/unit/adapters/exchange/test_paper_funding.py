"""Paper funding from a replay's funding-history file (``FileRates``): each funding time is charged once,
on the contracts held at that time (a fill at or after it does not count), at the last close before it,
whenever the charge is made; the charges come back as the venue's funding history."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tests.contract.exchange.intents import BTC, intent, market_buy
from tests.contract.exchange.venues import fake_like_btc_market
from trader.adapters.exchange.paper_funding import FileRates
from trader.adapters.exchange.paper_venue import PaperCosts, PaperExchange
from trader.core.backtest.markets import as_swap
from trader.core.domain.candles import ms_to_datetime
from trader.core.domain.enums import OrderPurpose, OrderType, Side
from trader.core.errors import ExchangeUnavailable
from trader.core.sim.costs import FeeModel

D = Decimal
HOUR = 3_600_000
START = 1_704_067_200_000  # 2024-01-01 00:00 UTC
RATE = D("0.0001")


def _paper() -> PaperExchange:
    rates = FileRates({BTC: ((START + 2 * HOUR, RATE), (START + 4 * HOUR, RATE))})
    return PaperExchange([as_swap(fake_like_btc_market())], quote="USDT", balances={"USDT": D(10_000)},
                         costs=PaperCosts(FeeModel.flat(D(0))), funding=rates)


def _candle(paper: PaperExchange, hour: int, close: float) -> None:
    paper.on_candle(BTC, "1h", (START + hour * HOUR, close, close, close, close, 1.0))


async def test_each_funding_time_is_charged_once_on_what_was_held_then_at_the_close_before_it() -> None:
    paper = _paper()
    _candle(paper, 0, 50000)
    await paper.place(market_buy("p1", "0.1"))
    _candle(paper, 1, 50000)  # the entry fills at this candle's open
    _candle(paper, 2, 51000)  # the funding time 02:00 is this candle's open: the mark is 01:00's close
    await paper.place(intent("p1", OrderPurpose.EXIT, Side.SELL, OrderType.MARKET, "0.1"))
    _candle(paper, 3, 52000)  # flat from 03:00 on: the 04:00 funding time charges nothing
    _candle(paper, 4, 52000)
    _candle(paper, 5, 52000)
    await paper.balances()  # the charges are made late, from the fills, as the engine's cycle asks
    await paper.balances()
    assert await paper.funding_paid(BTC, datetime(2024, 1, 1, tzinfo=UTC)) == [
        (ms_to_datetime(START + 2 * HOUR), D("0.1") * D(50000) * RATE)]
    # 10000 + the gain 0.1 * (52000 - 50000) - the one funding charge
    assert (await paper.balances()).equity == D(10_000) + D(200) - D("0.5")
    restored = _paper()
    restored.restore(paper.snapshot())
    await restored.balances()
    assert await restored.funding_paid(BTC, ms_to_datetime(START)) == \
        await paper.funding_paid(BTC, ms_to_datetime(START))
    assert (await restored.balances()).equity == D(10_000) + D(200) - D("0.5")


class _Flaky:
    """A venue's rate history that is down at first (a 5xx after the retries), then answers."""

    def __init__(self) -> None:
        self.down = True
        self.asked = 0

    async def funding_rates(self, symbol: str, since: datetime, limit: int = 1000
                            ) -> list[tuple[datetime, Decimal]]:
        self.asked += 1
        if self.down:
            raise ExchangeUnavailable("503 from the venue")
        return [(ms_to_datetime(START + 2 * HOUR), RATE)]


async def test_a_venue_without_rates_delays_the_charge_and_never_stops_the_paper_account() -> None:
    source = _Flaky()
    paper = PaperExchange([as_swap(fake_like_btc_market())], quote="USDT", balances={"USDT": D(10_000)},
                          costs=PaperCosts(FeeModel.flat(D(0))), funding=source)
    paper.on_price(BTC, D(50000), ms_to_datetime(START + HOUR))
    await paper.place(market_buy("p1", "0.1"))
    paper.on_price(BTC, D(50000), ms_to_datetime(START + HOUR + 1000))
    paper.on_price(BTC, D(50000), ms_to_datetime(START + 2 * HOUR + 60_000))  # past the funding time
    await paper.balances()  # the venue is down: nothing charged, nothing raised
    await paper.balances()  # asked once in this hour, not again
    assert source.asked == 1 and await paper.funding_paid(BTC, ms_to_datetime(START)) == []
    source.down = False
    paper.on_price(BTC, D(50000), ms_to_datetime(START + 3 * HOUR + 60_000))  # the next hour: asked again
    await paper.balances()
    assert await paper.funding_paid(BTC, ms_to_datetime(START)) == [
        (ms_to_datetime(START + 2 * HOUR), D("0.1") * D(50000) * RATE)]
