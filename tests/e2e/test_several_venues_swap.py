"""Live perpetual swaps on a further venue account: the real container and lifecycle with ``[[venues]]``,
real ccxt against two fake Binance venues, the second speaking its USDⓈ-M futures dialect.

"main" trades spot live on one fake venue; "second" trades live 3x isolated perpetuals on another. Done
means: the second account's short sets leverage and margin mode first (on its venue only), its reduce-only
stop rests on the venue, the funding the venue charges is booked once, alerts carry the account's name and
its own store holds the position; a restart reconciles the venue's signed position and futures wallet with
one stop and no second funding booking, and /positions, /balance and the web API show the swap position
with its venue, leverage and liquidation price.
"""

from __future__ import annotations

import io
import sqlite3
import time
from decimal import Decimal
from pathlib import Path

import pytest

from handlers import formatting
from tests.e2e.test_venue_breaker import _until
from tests.fakes.fake_exchange import FakeExchange
from tests.fixtures.venue_accounts import fake_venue_account, second_run, venues_settings, viewer_reads
from trader.config import Settings, StrategyEntry
from trader.core.domain.enums import Direction, Mode
from trader.core.positions.state import Position
from trader.runtime.container import RunOptions, Runtime, build_runtime

pytestmark = pytest.mark.slow

PAIR, PAIR_ID, D = "BTC/USDT", "BTCUSDT", Decimal
FUNDING = "GET /fapi/v1/income"


def swap_settings(tmp_path: Path, main: FakeExchange, second: FakeExchange) -> Settings:
    """Return "main" (spot, live, BTC/USDT breakout) and "second" (live perpetuals, 3x isolated shorts)."""
    return venues_settings(
        tmp_path,
        (fake_venue_account("main", main, (PAIR,), mode="live", live_confirmed=True),
         fake_venue_account("second", second, (PAIR,), mode="live", live_confirmed=True, market="swap")),
        (StrategyEntry(name="breakout", venue="main"),
         StrategyEntry(name="bollinger_reversion", venue="second", market="swap", allow_short=True,
                       leverage=3, margin_mode="isolated")))


async def _position(runtime: Runtime) -> Position:
    [position] = (await second_run(runtime).engine.trading.engine_state()).positions.values()
    return position


def _alert_texts(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [str(t) for (t,) in conn.execute("SELECT text FROM alert_outbox")]


async def test_a_further_account_shorts_perpetuals_live_books_funding_once_and_reconciles_a_restart(
        tmp_path: Path, fake_exchange: FakeExchange, second_venue: FakeExchange) -> None:
    for fake in (fake_exchange, second_venue):
        fake.venue.now_ms = int(time.time() * 1000)  # the service runs on the wall clock
    second_venue.perps.deposit("10000")
    perps = second_venue.perps
    settings = swap_settings(tmp_path, fake_exchange, second_venue)
    runtime = await build_runtime(settings, RunOptions(console=io.StringIO()))
    try:
        run = second_run(runtime)
        assert run.account.market == "swap" and run.breaker is not None  # the account's own breaker
        assert "(binance, BTC/USDT; second: binance live perpetuals, BTC/USDT)" in runtime.banner
        await run.start_up(0.2, 0.8)  # reconciled with its futures account (flat)
        result = await run.engine.trading.force_entry(PAIR, Direction.SHORT, D("0.01"), "bollinger_reversion")
        assert result.ok, result.message
        # the second venue was set to 3x isolated before the entry; the spot venue was not touched
        assert second_venue.futures.setting_changes == [f"{PAIR_ID} ISOLATED", f"{PAIR_ID} leverage 3"]
        assert fake_exchange.futures.setting_changes == []
        assert not any("/fapi/" in r for r in fake_exchange.requests)
        assert perps.position(PAIR_ID).qty == D("-0.01")
        [stop] = perps.open_algos(PAIR_ID)
        assert (stop.type, stop.side, stop.reduce_only, stop.qty) == ("STOP_MARKET", "BUY", True, D("0.01"))
        assert stop.trigger > perps.position(PAIR_ID).entry
        position = await _position(runtime)
        assert position.direction is Direction.SHORT and position.leverage == 3

        # funding: the short pays a negative rate; the account's next cycle books it once
        second_venue.venue.now_ms = int(time.time() * 1000) + 1000
        paid = perps.charge_funding(PAIR_ID, "-0.0003")
        assert paid > 0
        await run.engine.monitor.run_once()
        await run.engine.monitor.run_once()
        assert (await _position(runtime)).funding == paid
        async with runtime.lifecycle.parts.uow_factory() as uow:  # the main store holds nothing of it
            assert await uow.positions.unfinished() == []
    finally:
        await runtime.lifecycle.stop()
    texts = _alert_texts(tmp_path / "trader.second.db")
    assert texts and all(t.startswith("[second] ") for t in texts), texts

    asked = second_venue.requests.count(FUNDING)
    runtime = await build_runtime(settings, RunOptions(console=io.StringIO()))  # a restart
    try:
        run = second_run(runtime)
        await runtime.lifecycle.start()
        await _until("the second account reconciled", lambda: run.ready)
        assert await run.engine.entries_blocked() == ""  # its signed position agrees with the venue
        await run.engine.monitor.run_once()
        assert second_venue.requests.count(FUNDING) > asked  # funding read again after the restart ...
        assert (await _position(runtime)).funding == paid  # ... and not booked twice
        assert perps.open_algos(PAIR_ID) == [stop]  # the resting stop recognised: no second one
        assert sum(1 for e in perps.events if e.startswith("algo ")) == 1
        assert len(second_venue.futures.setting_changes) == 2

        [shown] = [p for p in await runtime.services.queries.positions() if p.venue == "second"]
        assert (shown.pair, shown.leverage) == (PAIR, 3) and shown.is_futures
        assert shown.liquidation_price is not None and shown.liquidation_price > stop.trigger
        listed = formatting.positions(await runtime.services.queries.positions())
        [line] = [x for x in listed.splitlines() if "[second]" in x]
        assert line.endswith(f" · 3x · liq. {formatting.price(shown.liquidation_price)}"), listed
        text = formatting.status(await runtime.services.queries.status())
        assert "[second] binance live" in text and "Leverage 3x · Liquidation" in text, text
        balance = await runtime.services.queries.balance()
        assert [(v.venue, v.mode) for v in balance.venues] == [("main", Mode.LIVE), ("second", Mode.LIVE)]
        [second_balance] = [v for v in balance.venues if v.venue == "second"]
        assert second_balance.exposure > 0 and second_balance.equity > D(9000)  # the futures wallet

        url = settings.database.url
        api_positions, api_balance = await viewer_reads(runtime, url, "positions", "balance")
        [api_position] = [p for p in api_positions if p["venue"] == "second"]
        assert D(api_position["leverage"]) == 3 and api_position["liquidation_price"] is not None
        assert [v["venue"] for v in api_balance["venues"]] == ["main", "second"]
        async with run.uow() as uow:  # the account's own store holds its position
            assert {p.symbol for p in await uow.positions.unfinished()} == {PAIR}
    finally:
        await runtime.lifecycle.stop()
