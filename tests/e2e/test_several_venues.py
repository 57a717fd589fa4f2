"""Several venue accounts in one service: the real container and lifecycle with ``[[venues]]``, each
account trading through the real ccxt client against its own fake Binance venue.

"main" trades live on one fake venue, "second" paper-trades on another (its prices from that venue's
public API). Done means: both accounts reconcile at start (again after a restart, with the positions
kept), a manual buy goes to the account trading the pair, /status, /positions and /balance name the
account on each line and total the accounts, each account's store holds only its own positions, and
the web API's DTOs carry the venue too.
"""

from __future__ import annotations

import asyncio
import io
import sqlite3
import time
from decimal import Decimal
from pathlib import Path
from typing import Literal

import httpx
import pytest

from handlers import formatting
from tests.e2e.test_venue_breaker import CONFIRM, Chat, _service, _until
from tests.fakes.fake_botapi import FakeBotApiCore
from tests.fakes.fake_exchange import FakeExchange, Fault, FaultKind
from tests.fixtures.venue_accounts import fake_venue_account, second_run, venues_settings, viewer_reads
from trader.config import BreakerConfig, Settings, StrategyEntry
from trader.core.domain.enums import Mode, OrderPurpose, OrderStatus
from trader.core.errors import InputError
from trader.live.fault_alerts import FAULT_KIND
from trader.live.venue_breaker import BACK_KIND, DOWN_KIND
from trader.ports.store import UnitOfWorkFactory
from trader.runtime.container import RunOptions, Runtime, build_runtime
from trader.services.dto import Actor, Role, TradeQuery

pytestmark = pytest.mark.slow

ADMIN = Actor(1, 1, Role.ADMIN, "admin", "test")


def two_venue_settings(tmp_path: Path, main: FakeExchange, second: FakeExchange, *,
                       second_mode: Literal["paper", "live"] = "paper",
                       breaker: BreakerConfig | None = None) -> Settings:
    """Return settings with two accounts: "main" (live, BTC/USDT) and "second" (ETH/USDT)."""
    return venues_settings(
        tmp_path,
        (fake_venue_account("main", main, ("BTC/USDT",), mode="live", live_confirmed=True),
         fake_venue_account("second", second, ("ETH/USDT",), mode=second_mode, live_confirmed=True)),
        (StrategyEntry(name="breakout", venue="main"),
         StrategyEntry(name="bollinger_reversion", venue="second")),
        breaker)


async def _buy(runtime: Runtime, pair: str, amount: str) -> None:
    control = runtime.services.control
    preview = await control.preview_buy(pair, Decimal(amount))
    result = await control.buy(preview, ADMIN)
    assert result.ok, result


async def test_two_venue_accounts_trade_reconcile_and_report_per_venue(
        tmp_path: Path, fake_exchange: FakeExchange, second_venue: FakeExchange) -> None:
    for fake in (fake_exchange, second_venue):
        fake.venue.now_ms = int(time.time() * 1000)
    settings = two_venue_settings(tmp_path, fake_exchange, second_venue)
    runtime = await build_runtime(settings, RunOptions(console=io.StringIO()))
    try:
        run = second_run(runtime)
        assert run.account.exchange.api_base_url == second_venue.base_url
        assert runtime.lifecycle.parts.exchange is not run.exchange
        assert "(binance, BTC/USDT; second: binance paper, ETH/USDT)" in runtime.banner
        await runtime.lifecycle.start()
        await _until("the second account reconciled", lambda: run.ready)
        jobs = {j.id for j in await runtime.services.queries.jobs()}
        assert {"monitor|second", "equity|second", "breaker|second",
                "tick|bollinger_reversion|ETH/USDT|1h", "tick|breakout|BTC/USDT|1h"} <= jobs

        await _buy(runtime, "BTC/USDT", "0.01")  # main: a live order on the first fake venue
        await _buy(runtime, "ETH/USDT", "0.5")  # second: paper, priced by the second venue
        assert any("/api/v3/order" in r for r in fake_exchange.requests)
        assert not any(r.startswith("POST /api/v3/order") for r in second_venue.requests)  # paper

        async def both_open() -> bool:
            return {p.venue for p in await runtime.services.queries.positions()} == {"main", "second"}
        await _until("a position on each account", both_open)
        status = await runtime.services.queries.status()
        assert [(v.venue, v.exchange, v.mode) for v in status.venues] == [
            ("main", "binance", Mode.LIVE), ("second", "binance", Mode.PAPER)]
        assert {(p.venue, p.pair) for p in status.positions} == {("main", "BTC/USDT"), ("second", "ETH/USDT")}
        text = formatting.status(status)
        assert "[main] binance live" in text and "[second] binance paper" in text, text
        assert "[second] <b>ETH/USDT</b>" in text and "[main] <b>BTC/USDT</b>" in text, text
        listed = formatting.positions(await runtime.services.queries.positions())
        assert "[main]" in listed and "[second]" in listed

        balance = await runtime.services.queries.balance()
        assert [v.venue for v in balance.venues] == ["main", "second"]
        assert balance.equity == sum(v.equity for v in balance.venues)
        assert balance.exposure == sum(v.exposure for v in balance.venues) > 0
        assert all(v.exposure > 0 for v in balance.venues)
        shown = formatting.balance(balance)
        assert "Equity, all venues" in shown and "<b>second</b> (binance, paper)" in shown, shown

        enabled = {v.name: v.enabled for v in await runtime.services.queries.strategies()}
        assert enabled["breakout"] and enabled["bollinger_reversion"]  # each on its own account
        change = await runtime.services.control.preview_setting("risk.max_open_positions", "3")
        assert (await runtime.services.control.apply_setting(change, ADMIN)).ok
        assert run.engine.trading.runner.options.risk.max_open_positions == 3  # a risk change reaches both

        # the web API serves the same DTOs: the venue on each line, one balance per account
        api_status, api_balance = await viewer_reads(runtime, settings.database.url, "status", "balance")
        assert sorted(p["venue"] for p in api_status["positions"]) == ["main", "second"]
        assert [v["venue"] for v in api_status["venues"]] == ["main", "second"]
        assert [v["venue"] for v in api_balance["venues"]] == ["main", "second"]
        assert Decimal(api_balance["equity"]) == balance.equity

        # each account's store holds its own positions only
        async with run.uow() as uow:
            assert {p.symbol for p in await uow.positions.unfinished()} == {"ETH/USDT"}
        async with runtime.lifecycle.parts.uow_factory() as uow:
            assert {p.symbol for p in await uow.positions.unfinished()} == {"BTC/USDT"}
    finally:
        await runtime.lifecycle.stop()

    assert (tmp_path / "trader.second.db").is_file()
    # a restart reconciles both accounts and finds both positions again
    runtime = await build_runtime(settings, RunOptions(console=io.StringIO()))
    try:
        run = second_run(runtime)
        await runtime.lifecycle.start()
        await _until("the second account reconciled again", lambda: run.ready)
        positions = await runtime.services.queries.positions()
        assert sorted((p.venue, p.pair) for p in positions) == [("main", "BTC/USDT"), ("second", "ETH/USDT")]
        assert await run.engine.entries_blocked() == ""  # the paper account agrees with its store
        assert await runtime.lifecycle.parts.engine.entries_blocked() == ""

        # reports per venue and in total: close the second account's position (routed to its holder)
        (eth,) = [p for p in positions if p.venue == "second"]
        assert (await runtime.services.control.close(eth.id, ADMIN)).ok

        async def closed() -> bool:
            return (await runtime.services.reports.profit(None)).closed_trades == 1
        await _until("the closed trade in the total", closed)
        profit = await runtime.services.reports.profit(None)
        assert [(v.venue, v.profit.closed_trades) for v in profit.venues] == [("main", 0), ("second", 1)]
        assert profit.realised == sum(v.profit.realised for v in profit.venues) != 0
        assert profit.unrealised == sum(v.profit.unrealised for v in profit.venues)
        assert profit.sharpe is None and profit.max_drawdown is None  # curve ratios: per account only
        text = formatting.profit(profit)
        assert "Profit, all time, all venues" in text and "<b>second</b>" in text, text
        assert text.count("Closed trades") == 3
        page = await runtime.services.reports.trades(TradeQuery())
        assert [(t.venue, t.pair) for t in page.trades] == [("second", "ETH/USDT")]
        assert "[second]" in formatting.trade_page(page)
    finally:
        await runtime.lifecycle.stop()


PLACE = "POST /api/v3/order"
LOOKUP = "GET /api/v3/order"


async def _stop_rests(uow: UnitOfWorkFactory) -> bool:
    async with uow() as unit:
        records = await unit.orders.open()
    return any(r.purpose is OrderPurpose.STOP and r.status is OrderStatus.OPEN for r in records)


def _kinds(path: Path) -> list[str]:
    """Return the kind of every alert an account's outbox ever held, delivered or not."""
    with sqlite3.connect(path) as conn:
        return [str(k) for (k,) in conn.execute("SELECT kind FROM alert_outbox")]


def _texts(path: Path, kind: str) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [str(t) for (t,) in conn.execute("SELECT text FROM alert_outbox WHERE kind = ?", (kind,))]


async def test_one_venue_down_pauses_its_entries_only_and_resumes_when_it_answers(
        tmp_path: Path, fake_exchange: FakeExchange, second_venue: FakeExchange) -> None:
    for fake in (fake_exchange, second_venue):
        fake.venue.now_ms = int(time.time() * 1000)
    breaker = BreakerConfig(failures=3, open_seconds=1.0, probe_seconds=0.2, probes_to_close=2,
                            retry_seconds=0.2, retry_max_seconds=0.8)
    settings = two_venue_settings(tmp_path, fake_exchange, second_venue, second_mode="live", breaker=breaker)
    risk = settings.risk.model_copy(update={"max_positions_per_pair": 2})
    settings = settings.model_copy(update={"risk": risk})
    runtime = await build_runtime(settings, RunOptions(console=io.StringIO()))
    run = second_run(runtime)
    down = run.breaker
    assert down is not None
    try:
        await runtime.lifecycle.start()
        await _until("the second account reconciled", lambda: run.ready)
        # a position on the second venue: the entry goes through, its stop placement gets no answer ...
        second_venue.inject(Fault(FaultKind.SERVER_ERROR, route=PLACE, after=1, times=10**6))
        await _buy(runtime, "ETH/USDT", "0.5")
        await _until("the stop's failed placement",
                     lambda: (PLACE, FaultKind.SERVER_ERROR) in second_venue.faults.fired)
        second_venue.inject(Fault(FaultKind.SERVER_ERROR, times=10**6))  # ... then no call at all
        await _until("the second venue's breaker open", lambda: not down.state.allows_entries)
        await _until("the stop retried with backoff", lambda: down.retries >= 2
                     and second_venue.faults.fired.count((LOOKUP, FaultKind.SERVER_ERROR)) >= 2)
        assert not await _stop_rests(run.uow)
        with pytest.raises(InputError) as refused:
            await runtime.services.control.preview_buy("ETH/USDT", Decimal("0.1"))
        assert "venue second is down since" in refused.value.user_message
        assert run.engine.trading.runner.config("bollinger_reversion", {}).venue_down.startswith(
            "venue second is down since")  # strategy ticks on that account are refused by step too
        status = await runtime.services.queries.status()
        (main_line, second_line) = status.venues
        assert main_line.note == "" and second_line.note.startswith("venue second is down since")
        assert "[second] binance live · active · 1 open: venue second is down" in formatting.status(status)

        health = runtime.lifecycle._health
        assert health is not None
        async with httpx.AsyncClient(timeout=10) as http:
            ready = await http.get(f"http://127.0.0.1:{health.port}/ready")
        body = ready.json()  # the second venue degrades the service; the main one keeps it ready
        assert "venue second is down since" in body["degraded"]["exchange_second"], body
        assert ready.status_code == 200 and "exchange" not in body.get("reasons", {}), body
        merged = await runtime.services.queries.health()
        assert any(p.startswith("second: venue down since") for p in merged.problems), merged.problems

        # the other venue trades on
        primary = runtime.lifecycle.parts.breaker
        assert primary is not None and primary.state.allows_entries
        await _buy(runtime, "BTC/USDT", "0.01")
        await asyncio.sleep(1.0)  # more failing calls and probes while open: still one alert
        assert _kinds(tmp_path / "trader.second.db").count(DOWN_KIND) == 1

        second_venue.faults.clear()  # the second venue answers again
        await _until("the second venue's breaker closed", lambda: down.state.allows_entries)
        await _until("the stop resting on the second venue", lambda: _stop_rests(run.uow))
        await _buy(runtime, "ETH/USDT", "0.1")  # entries resume there by themselves

        async def three_open() -> bool:
            positions = await runtime.services.queries.positions()
            return sorted((p.venue, p.pair) for p in positions) == [
                ("main", "BTC/USDT"), ("second", "ETH/USDT"), ("second", "ETH/USDT")]
        await _until("the new entry on the second venue", three_open)
    finally:
        await runtime.lifecycle.stop()
    second_kinds = _kinds(tmp_path / "trader.second.db")
    assert second_kinds.count(DOWN_KIND) == 1 and second_kinds.count(BACK_KIND) == 1
    assert FAULT_KIND not in second_kinds
    assert _texts(tmp_path / "trader.second.db", DOWN_KIND)[0].startswith("[second] Venue second down")
    unprotected = [t for t in _texts(tmp_path / "trader.second.db", "error") if "UNPROTECTED" in t]
    assert len(unprotected) == 1 and unprotected[0].startswith("[second] UNPROTECTED: ETH/USDT")
    main_kinds = _kinds(tmp_path / "trader.db")
    assert DOWN_KIND not in main_kinds and BACK_KIND not in main_kinds


async def test_the_global_exposure_cap_counts_the_other_accounts_positions(
        tmp_path: Path, fake_exchange: FakeExchange, second_venue: FakeExchange) -> None:
    for fake in (fake_exchange, second_venue):
        fake.venue.now_ms = int(time.time() * 1000)
    settings = two_venue_settings(tmp_path, fake_exchange, second_venue)
    risk = settings.risk.model_copy(update={"max_position_pct": Decimal(1), "max_exposure_pct": Decimal(1),
                                            "max_total_exposure_pct": Decimal("0.3")})
    scheduler = settings.scheduler.model_copy(update={"risk_interval_seconds": 0.3})
    settings = settings.model_copy(update={"risk": risk, "scheduler": scheduler})
    runtime = await build_runtime(settings, RunOptions(console=io.StringIO()))
    run = second_run(runtime)
    try:
        await runtime.lifecycle.start()
        await _until("the second account reconciled", lambda: run.ready)
        alone = await runtime.services.control.preview_buy("ETH/USDT", Decimal(1))  # 3,000 of 6,000 room
        assert alone.amount == Decimal(1) and alone.capped_by is None
        await _buy(runtime, "BTC/USDT", "0.1")  # 5,000 USDT on main: 1,000 left for both accounts

        async def main_counted() -> bool:  # main's equity job refreshes what the second account sees
            snapshot = await run.exchange.balances()
            return snapshot.others_exposure > Decimal(4000)
        await _until("main's exposure seen by the second account", main_counted)
        capped = await runtime.services.control.preview_buy("ETH/USDT", Decimal(1))
        assert capped.capped_by == "max exposure 30% of all venue accounts' equity"
        assert capped.amount * capped.price <= Decimal(1100)
    finally:
        await runtime.lifecycle.stop()


async def test_an_account_takes_its_candles_from_its_data_venue(
        tmp_path: Path, fake_exchange: FakeExchange, second_venue: FakeExchange) -> None:
    for fake in (fake_exchange, second_venue):
        fake.venue.now_ms = int(time.time() * 1000)
    settings = two_venue_settings(tmp_path, fake_exchange, second_venue)
    # the second account trades on the second venue, its strategies read the first venue's candles
    data = settings.venues[1].model_copy(update={"data_venue": "binance",
                                                 "data_base_url": fake_exchange.base_url})
    settings = settings.model_copy(update={"venues": (settings.venues[0], data)})
    runtime = await build_runtime(settings, RunOptions(console=io.StringIO()))
    run = second_run(runtime)
    try:
        await runtime.lifecycle.start()
        await _until("the second account reconciled", lambda: run.ready)
        before_a, before_b = len(fake_exchange.requests), len(second_venue.requests)
        report = await run.engine.trading.run_tick("bollinger_reversion", "ETH/USDT", "1h")
        assert report is not None
        klines = [r for r in fake_exchange.requests[before_a:] if r.startswith("GET /api/v3/klines")]
        assert klines, fake_exchange.requests[before_a:]
        assert not any("klines" in r for r in second_venue.requests[before_b:])
    finally:
        await runtime.lifecycle.stop()


async def test_telegram_status_balance_and_buy_name_the_venue_account(
        tmp_path: Path, fake_exchange: FakeExchange, second_venue: FakeExchange,
        fake_botapi: FakeBotApiCore) -> None:
    for fake in (fake_exchange, second_venue):
        fake.venue.now_ms = int(time.time() * 1000)
    runtime = await build_runtime(two_venue_settings(tmp_path, fake_exchange, second_venue),
                                  RunOptions(console=io.StringIO()))
    chat = Chat(fake_botapi)
    async with _service(runtime, fake_botapi):
        await _until("the second account reconciled", lambda: second_run(runtime).ready)
        question = await chat.ask("/buy ETH/USDT 0.5", CONFIRM)  # the second account lists ETH/USDT
        await chat.press(question, CONFIRM, "Buying")

        async def filled() -> bool:  # the paper fill is booked by the engine's next cycle
            return any(p.venue == "second" for p in await runtime.services.queries.positions())
        await _until("the position on the second account", filled)
        status = await chat.ask("/status", "Trading")
        shown = status.shown
        assert "[main] binance live" in shown and "[second] binance paper" in shown, shown
        assert "[second] ETH/USDT" in shown, shown
        balance = await chat.ask("/balance", "Equity")
        assert "Equity, all venues" in balance.shown and "second (binance, paper)" in balance.shown
