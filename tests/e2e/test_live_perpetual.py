"""Live perpetual trading end to end on real parts: the trading service, protection monitor and
reconciliation over a swap CcxtExchange (real ccxt) against the fake's Binance USDⓈ-M, OKX swap and
Bybit linear dialects (the same futures account behind all: ``fake_exchange`` parametrises every test), and a
SQLite file. A 3x isolated short opens, its stop rests reduce-only above the entry as an algo order,
funding the venue pays is booked on the position, the trailing stop moves down as the price falls,
the stop closes the position; the store agrees with the venue. A restart mid-position reconciles
against the venue's position and places no second stop."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from pydantic import SecretStr

from tests.e2e.perp_harness import PAIR, PAIR_ID, PerpRig
from tests.fakes.fake_exchange import (
    API_KEY,
    API_SECRET,
    BYBIT_KEY,
    BYBIT_SECRET,
    FakeExchange,
    Fault,
    FaultKind,
)
from tests.fakes.fake_exchange.okx_app import OKX_KEY
from trader.config.sections import ExchangeConfig
from trader.core.domain.enums import Direction, ExitReason, ProtectionKind
from trader.core.positions.protection import working_id
from trader.core.positions.state import PositionStatus

D = Decimal


KEYS = {"binance": (API_KEY, API_SECRET), "okx": (OKX_KEY, API_SECRET), "bybit": (BYBIT_KEY, BYBIT_SECRET)}
# What the venue records when set to 3x isolated: Bybit's unified account sets the margin mode account-wide
SETTINGS = {"binance": [f"{PAIR_ID} ISOLATED", f"{PAIR_ID} leverage 3"],
            "okx": [f"{PAIR_ID} ISOLATED", f"{PAIR_ID} leverage 3"],
            "bybit": ["account ISOLATED", f"{PAIR_ID} leverage 3"]}


@pytest.fixture(params=["binance", "okx", "bybit"])
def fake_exchange(request: pytest.FixtureRequest) -> Iterator[FakeExchange]:
    """A fake venue serving the perpetuals in the venue's dialect (nothing in the spot wallet)."""
    fake = FakeExchange.start_default(request.param)
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake_exchange_config(fake_exchange: FakeExchange) -> ExchangeConfig:
    """A live ExchangeConfig of the fake's venue, with its test keys."""
    okx = fake_exchange.dialect == "okx"
    key, secret = KEYS[fake_exchange.dialect]
    return ExchangeConfig(
        name=fake_exchange.dialect, mode="live", live_confirmed=True,
        api_key=SecretStr(key), api_secret=SecretStr(secret),
        api_password=SecretStr("p") if okx else None, api_base_url=fake_exchange.base_url,
        timeout_seconds=1.0, max_retries=4)


@pytest.mark.parametrize("child_keeps_client_id", [True, False], ids=["same-id", "own-id"])
async def test_a_leveraged_short_rests_its_stop_books_funding_trails_down_and_closes(
        fake_exchange: FakeExchange, fake_exchange_config: ExchangeConfig, db_url: str,
        child_keeps_client_id: bool) -> None:
    rig = await PerpRig.start(fake_exchange, fake_exchange_config, db_url)
    perps = fake_exchange.perps
    perps.child_keeps_client_id = child_keeps_client_id  # the triggered stop's order: either id form
    try:
        report = await rig.trading.run_tick("short_at", PAIR, "1h")
        assert report.signal is not None and report.signal.enter_short
        position = await rig.position()
        assert position.direction is Direction.SHORT and position.status is PositionStatus.OPEN
        assert position.leverage == 3 and position.protection is ProtectionKind.NATIVE
        # the venue was set to 3x isolated before the entry, and holds the short
        assert fake_exchange.futures.setting_changes == SETTINGS[fake_exchange.dialect]
        venue_position = perps.position(PAIR_ID)
        assert venue_position.qty == -position.open_amount and venue_position.entry == D(50000)
        assert venue_position.margin == position.open_amount * D(50000) / 3
        # the stop rests on the venue: a reduce-only STOP_MARKET buy above the entry, for the whole short
        [stop] = perps.open_algos(PAIR_ID)
        assert (stop.type, stop.side, stop.reduce_only) == ("STOP_MARKET", "BUY", True)
        assert stop.trigger == position.stop_price == D("51000.00") and stop.qty == position.open_amount
        assert stop.client_id == working_id(position)
        assert perps.liquidation_price(PAIR_ID) > stop.trigger  # the stop comes first
        stop_route = {"binance": "POST /fapi/v1/algoOrder", "okx": "POST /api/v5/trade/order-algo",
                      "bybit": "POST /v5/order/create"}
        assert stop_route[fake_exchange.dialect] in fake_exchange.requests  # in the venue's own dialect

        # funding: the short receives a positive rate; booked on the position at the next hour's check
        rig.tick("49500")
        await rig.monitor.run_once()
        received = -perps.charge_funding(PAIR_ID, "0.0001")
        assert received == position.open_amount * D(49500) * D("0.0001")
        rig.clock.advance(timedelta(hours=1))
        rig.tick("49500")
        await rig.monitor.run_once()
        assert (await rig.position()).funding == -received
        rig.tick("49500")  # asked again later: nothing booked twice
        rig.clock.advance(timedelta(hours=1))
        await rig.monitor.run_once()
        assert (await rig.position()).funding == -received

        for price in ("49000", "48500", "48000"):  # down: the stop trails 2 % above the low
            rig.tick(price)
            await rig.monitor.run_once()
        position = await rig.position()
        assert position.stop_price == D("48960.00")
        [stop] = perps.open_algos(PAIR_ID)  # replaced (cancel, then place): one stop rests, never none
        assert (stop.trigger, stop.qty, stop.reduce_only) == (D("48960.00"), position.open_amount, True)
        assert sum(1 for e in perps.events if e.startswith("algo ")) >= 4
        assert all(a.status in ("CANCELED", "NEW") for a in perps.algos.values())

        rig.tick("49000")  # up through the stop: the venue buys the short back
        await rig.monitor.run_once()
        assert (await rig.trading.engine_state()).positions == {}
        [closed] = await rig.finished()
        assert closed.status is PositionStatus.CLOSED and closed.exit_reason is ExitReason.TRAILING_STOP
        assert closed.exit_price == D("49000") and closed.funding == -received
        entry_fee, exit_fee = (t.commission for t in perps.trades)
        assert closed.realised_pnl == (D(50000) - D(49000)) * closed.filled - entry_fee - exit_fee + received
        # the store agrees with the venue: flat, no resting order, every venue trade stored once
        assert perps.position(PAIR_ID).qty == 0 and perps.open_algos() == [] and perps.open_orders() == []
        assert await rig.stored_trade_ids() == sorted(str(t.trade_id) for t in perps.trades)
        assert perps.wallet == D(10000) + closed.realised_pnl
    finally:
        await rig.close()


async def test_a_restart_mid_position_reconciles_with_the_venue_and_keeps_one_stop(
        fake_exchange: FakeExchange, fake_exchange_config: ExchangeConfig, db_url: str) -> None:
    rig = await PerpRig.start(fake_exchange, fake_exchange_config, db_url)
    perps = fake_exchange.perps
    try:
        await rig.trading.run_tick("short_at", PAIR, "1h")
        rig.tick("50000")
        paid = perps.charge_funding(PAIR_ID, "-0.0003")  # a negative rate: the short pays
        rig.clock.advance(timedelta(hours=1))
        await rig.monitor.run_once()
        before = await rig.position()
        assert before.funding == paid > 0
        [stop] = perps.open_algos(PAIR_ID)
        rig = await rig.restart()
        report = await rig.reconciler.run()
        assert report.clean, report.summary()
        assert await rig.position() == before  # the funding read again after the restart is not re-booked
        assert perps.open_algos(PAIR_ID) == [stop]  # the resting stop was recognised: no second one
        assert sum(1 for e in perps.events if e.startswith("algo ")) == 1
        assert len(fake_exchange.futures.setting_changes) == 2  # nothing to set again before an exit

        # the venue's position shrinks behind our back: reconciliation says so and blocks entries
        perps.positions[PAIR_ID].qty /= 2
        rig = await rig.restart()
        report = await rig.reconciler.run()
        assert [d.kind for d in report.unresolved] == ["position_mismatch"]
        perps.positions[PAIR_ID].qty *= 2

        result = await rig.trading.close_position(before.id)  # /close: buys the short back
        assert result.ok, result
        assert (await rig.trading.engine_state()).positions == {}
        [closed] = await rig.finished()
        assert closed.exit_reason is ExitReason.MANUAL
        assert perps.position(PAIR_ID).qty == 0 and perps.open_algos() == []
        assert await rig.stored_trade_ids() == sorted(str(t.trade_id) for t in perps.trades)
    finally:
        await rig.close()


@pytest.mark.parametrize("child_keeps_client_id", [True, False], ids=["same-id", "own-id"])
async def test_a_stop_hit_while_the_service_was_down_closes_the_short_at_reconciliation(
        fake_exchange: FakeExchange, fake_exchange_config: ExchangeConfig, db_url: str,
        child_keeps_client_id: bool) -> None:
    rig = await PerpRig.start(fake_exchange, fake_exchange_config, db_url)
    perps = fake_exchange.perps
    perps.child_keeps_client_id = child_keeps_client_id
    try:
        await rig.trading.run_tick("short_at", PAIR, "1h")
        await rig.close()
        rig.tick("51500")  # the service is down: the venue's stop buys the short back
        assert perps.position(PAIR_ID).qty == 0
        rig = PerpRig(fake_exchange, fake_exchange_config, db_url, rig.clock)
        report = await rig.reconciler.run()
        assert report.clean, report.summary()
        assert "closed_by_hand" not in report.summary()  # the fill is the stop's, not a manual exit
        [closed] = await rig.finished()
        assert closed.exit_reason is ExitReason.STOP_LOSS and closed.exit_price == D(51500)
        assert await rig.stored_trade_ids() == sorted(str(t.trade_id) for t in perps.trades)
    finally:
        await rig.close()


STOP_ROUTES = {"binance": {"cancel": "DELETE /fapi/v1/algoOrder", "place": "POST /fapi/v1/algoOrder"},
               "okx": {"cancel": "POST /api/v5/trade/cancel-algos", "place": "POST /api/v5/trade/order-algo"},
               "bybit": {"cancel": "POST /v5/order/cancel", "place": "POST /v5/order/create"}}


@pytest.mark.parametrize("step", ["cancel", "place"])
@pytest.mark.parametrize("kind", [FaultKind.DROP_AFTER_ACCEPT, FaultKind.SERVER_ERROR])
async def test_a_trailing_move_whose_response_is_lost_leaves_exactly_one_stop(
        fake_exchange: FakeExchange, fake_exchange_config: ExchangeConfig, db_url: str, step: str,
        kind: FaultKind) -> None:
    rig = await PerpRig.start(fake_exchange, fake_exchange_config, db_url)
    perps = fake_exchange.perps
    try:
        await rig.trading.run_tick("short_at", PAIR, "1h")
        fake_exchange.inject(Fault(kind, route=STOP_ROUTES[fake_exchange.dialect][step]))
        for _ in range(3):  # the move, then checks: the lost answer is read back, never doubled
            rig.tick("48000")
            await rig.monitor.run_once()
        position = await rig.position()
        [stop] = perps.open_algos(PAIR_ID)
        assert (stop.trigger, stop.client_id) == (position.stop_price, working_id(position))
        assert position.stop_price == D("48960.00") and stop.qty == position.open_amount
        assert (STOP_ROUTES[fake_exchange.dialect][step], kind) in fake_exchange.faults.fired
        rig.tick("49000")  # the moved stop closes the short
        await rig.monitor.run_once()
        [closed] = await rig.finished()
        assert closed.exit_reason is ExitReason.TRAILING_STOP and perps.position(PAIR_ID).qty == 0
    finally:
        await rig.close()
