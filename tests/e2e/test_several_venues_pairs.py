"""A pair group on a further venue account, closed by its group id (the real container and lifecycle with
``[[venues]]``, real ccxt against two fake Binance venues, real Telegram transport and HTTP API).

"main" trades breakout on the BTC/USDT perpetual; "second" trades the pairs strategy on the other
venue's perpetuals (ETH/USDT against BTC/USDT), priced by that venue's public API. Both are paper
accounts (live perpetuals on a further account: test_several_venues_swap.py). The group is not on the
primary account, so /close and the REST close must be routed
by the group id to the account holding it: the preview lists the group with both legs, the close
flattens both legs on the second account and the first is left alone.
"""

from __future__ import annotations

import io
import time
from decimal import Decimal
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.e2e.test_venue_breaker import CONFIRM, Chat, _service, _until
from tests.fakes.fake_botapi import FakeBotApiCore
from tests.fakes.fake_exchange import FakeExchange
from tests.fixtures.venue_accounts import api_token, fake_venue_account, second_run, venues_settings
from trader.config import Settings, StrategyEntry
from trader.core.positions.pair_group import GroupStatus
from trader.runtime.container import RunOptions, Runtime, build_runtime
from trader.services.dto import Role

pytestmark = pytest.mark.slow

ETH, BTC, HOUR = "ETH/USDT", "BTC/USDT", 3_600_000
PARAMS = {"window": 10, "halflife": 5, "entry_z": 2.0, "exit_z": 0.0, "stop_z": 50.0}
NEEDED = 200  # candles: more than the setup's required history


def _signalling_candles(fake: FakeExchange) -> None:
    """Serve ETH and BTC hourly candles up to the last closed hour, ETH falling behind on the last one:
    the pairs strategy's next tick enters a long spread."""
    now = int(time.time() * 1000)
    fake.venue.now_ms = now
    times = [now // HOUR * HOUR - HOUR * (NEEDED - i) for i in range(NEEDED)]
    rng = np.random.default_rng(7)
    btc = 50_000 * np.exp(np.cumsum(rng.normal(0, 0.004, NEEDED)))
    eth = 3_000 * (btc / 50_000) * np.exp(rng.normal(0, 0.001, NEEDED))
    eth[-1] *= 0.97
    for pair, series in ((ETH, eth), (BTC, btc)):
        fake.set_candles(pair, "1h", [[t, float(p), float(p), float(p), float(p), 1.0]
                                      for t, p in zip(times, series, strict=True)])
        fake.set_price(pair, f"{series[-1]:.2f}")


def _settings(tmp_path: Path, main: FakeExchange, second: FakeExchange) -> Settings:
    return venues_settings(
        tmp_path,
        (fake_venue_account("main", main, (BTC,), mode="paper", market="swap"),
         fake_venue_account("second", second, (ETH, BTC), mode="paper", market="swap")),
        (StrategyEntry(name="breakout", venue="main", market="swap"),
         StrategyEntry(name="pairs", venue="second", market="swap", pairs=(ETH, BTC), params=PARAMS)))


async def _trader_token(url: str) -> str:
    return await api_token(url, Role.TRADER, "pairs-venues-test")


async def _open_group(runtime: Runtime, before: set[str]) -> str:
    """Run the second account's pairs tick (as its hourly job would) and return the group it opened, once
    both legs filled (a paper venue fills market orders on the next price its monitor reads)."""
    run = second_run(runtime)
    [report] = await run.engine.trading.run_ticks("pairs", [ETH], "1h")
    assert report.note.startswith("z "), report.note
    [group_id] = set((await run.engine.trading.engine_state()).groups) - before

    async def opened() -> bool:
        groups = {g.id: g for g in await runtime.services.queries.pair_groups()}
        return group_id in groups and groups[group_id].status == GroupStatus.OPEN.value
    await _until(f"group {group_id} open", opened)
    return group_id


async def test_a_group_on_the_second_account_is_closed_by_its_id_from_telegram_and_rest(
        tmp_path: Path, fake_exchange: FakeExchange, second_venue: FakeExchange,
        fake_botapi: FakeBotApiCore) -> None:
    fake_exchange.venue.now_ms = int(time.time() * 1000)
    _signalling_candles(second_venue)
    settings = _settings(tmp_path, fake_exchange, second_venue)
    runtime = await build_runtime(settings, RunOptions(console=io.StringIO()))
    chat = Chat(fake_botapi)
    async with _service(runtime, fake_botapi) as port:
        await _until("the second account reconciled", lambda: second_run(runtime).ready)
        group_id = await _open_group(runtime, set())
        assert [g.id for g in await runtime.services.queries.pair_groups()] == [group_id]
        main_engine = runtime.lifecycle.parts.engine

        # Telegram: the preview names the group and both legs, the confirmation closes it on "second"
        question = await chat.ask(f"/close {group_id}", CONFIRM)
        assert f"pair group {group_id}" in question.shown and "ETH/USDT buy" in question.shown, question.shown
        done = await chat.press(question, CONFIRM, "closing both legs")
        assert group_id in done.shown

        async def flat() -> bool:
            return not await runtime.services.queries.pair_groups()
        await _until("the group closed", flat)
        main_state = await main_engine.trading.engine_state()
        assert main_state.groups == {} and main_state.positions == {} and main_state.orders == {}

        # REST: a second group, closed by its id through POST /api/v1/close
        _signalling_candles(second_venue)
        second_group = await _open_group(runtime, {group_id})
        assert second_group != group_id
        auth = {"Authorization": f"Bearer {await _trader_token(settings.database.url)}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=10,
                                     headers=auth) as http:
            answer = await http.post("/control/close/preview", json={"target": second_group})
            assert answer.status_code == 200, answer.text
            preview = answer.json()
            assert [g["id"] for g in preview["groups"]] == [second_group] and preview["positions"] == []
            closed = (await http.post("/control/close", json={"target": second_group})).json()
        assert closed["ok"], closed
        await _until("the second group closed", flat)
        state = await second_run(runtime).engine.trading.engine_state()
        assert state.groups == {} and state.orders == {}
        async with second_run(runtime).uow() as uow:
            legs = await uow.positions.finished(limit=10)
        assert len(legs) == 4 and {p.symbol for p in legs} == {ETH, BTC}
        assert all(p.exit_reason is not None and p.exit_reason.value == "manual" for p in legs)
        assert Decimal(0) != sum(p.realised_pnl for p in legs)
