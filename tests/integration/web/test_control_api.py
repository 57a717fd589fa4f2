"""Control API through real HTTP against the real runtime: state changes, roles, previews and the audit
rows, compared with the same actions sent as Telegram commands to the real bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from tests.fakes.fake_botapi import FakeBotApiCore
from tests.fakes.fake_botapi.harness import BotHarness, running_bot
from tests.fixtures.live_runtime import MakeRuntime
from tests.integration.web.conftest import ApiHarness, serve
from trader.core.domain.enums import ExitReason, TradingState
from trader.core.positions.state import PositionStatus
from trader.core.risk.state import RiskState
from trader.services.dto import Role

CONFIRM = "✅ Confirm"


async def _state(api: ApiHarness) -> TradingState:
    async with api.live.uow() as uow:
        return (await uow.risk.get() or RiskState()).trading_state


async def _control_rows(api: ApiHarness, actor: str) -> list[tuple[str, str, str]]:
    async with api.live.uow() as uow:
        entries = await uow.audit.recent(200)
    return [(e.action, e.detail, e.result) for e in reversed(entries)
            if e.actor == actor and e.action.startswith("control.")]


async def test_pause_resume_and_halt_change_the_stored_state(api: ApiHarness) -> None:
    paused = (await api.post("/control/pause", Role.TRADER)).json()
    assert paused["ok"] is True
    assert await _state(api) is TradingState.PAUSED
    again = (await api.post("/control/pause", Role.TRADER)).json()
    assert again["ok"] is False and "paused" in again["refused_reason"]
    assert (await api.post("/control/resume", Role.TRADER)).json()["ok"] is True
    assert await _state(api) is TradingState.ACTIVE
    assert (await api.post("/control/halt", Role.TRADER)).json()["ok"] is True
    assert await _state(api) is TradingState.HALTED
    assert await _control_rows(api, "api:test-trader") == [
        ("control.pause", "Paused: no new positions; open ones stay protected.", "ok"),
        ("control.pause", "Not paused", "refused: trading is already paused"),
        ("control.resume", "Trading resumed.", "ok"),
        ("control.halt", "flatten=False", "ok"),
    ]


async def test_a_viewer_may_not_control_and_nothing_changes(api: ApiHarness) -> None:
    for path, body in [("/control/pause", None), ("/control/resume", None), ("/control/halt", {}),
                       ("/control/close", {}), ("/control/close/preview", {}),
                       ("/control/buy/preview", {"pair": "BTC/USDT"})]:
        resp = await api.post(path, Role.VIEWER, body)
        assert resp.status_code == 403, path
        assert (await api.post(path, None, body)).status_code == 401, path
    assert await _state(api) is TradingState.ACTIVE
    assert await _control_rows(api, "api:test-viewer") == []


async def test_close_preview_then_close_books_a_manual_exit(api: ApiHarness) -> None:
    position = await api.live.open_position()
    preview = (await api.post("/control/close/preview", Role.TRADER, {"target": position.id})).json()
    assert [p["id"] for p in preview["positions"]] == [position.id]
    unknown = await api.post("/control/close/preview", Role.TRADER, {"target": "nope"})
    assert unknown.status_code == 400 and "nope" in unknown.json()["error"]["message"]
    result = (await api.post("/control/close", Role.TRADER, {"target": position.id})).json()
    assert result["ok"] is True
    await api.live.advance(1)
    async with api.live.uow() as uow:
        closed = await uow.positions.get(position.id)
    assert closed is not None and closed.status is PositionStatus.CLOSED
    assert closed.exit_reason is ExitReason.MANUAL
    nothing = (await api.post("/control/close", Role.TRADER, {"target": position.id})).json()
    assert nothing["ok"] is False


async def test_halt_with_flatten_closes_every_position(api: ApiHarness) -> None:
    await api.live.open_position()
    result = (await api.post("/control/halt", Role.ADMIN, {"flatten": True})).json()
    assert result["ok"] is True
    await api.live.advance(1)
    assert await _state(api) is TradingState.HALTED
    assert not [p for p in await api.live.active() if p.filled > 0 and p.status is PositionStatus.OPEN]


async def test_buy_preview_changes_nothing_and_the_confirmed_one_opens_a_position(api: ApiHarness) -> None:
    await api.live.advance(1)
    preview = await api.post("/control/buy/preview", Role.TRADER, {"pair": "eth/usdt", "amount": "0.05"})
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["pair"] == "ETH/USDT" and Decimal(body["amount"]) == Decimal("0.05")
    assert not [p for p in await api.live.active() if p.strategy == "manual"]
    done = (await api.post("/control/buy", Role.TRADER, body)).json()
    assert done["ok"] is True, done
    await api.live.advance(1)
    [manual] = [p for p in await api.live.active() if p.strategy == "manual"]
    assert manual.filled > 0 and manual.amount <= Decimal("0.05")


async def test_bad_control_bodies_are_clear_4xx(api: ApiHarness) -> None:
    for path, body, words in [
        ("/control/buy/preview", {"pair": "BTC/USDT", "amount": "-1"}, "body.amount"),
        ("/control/buy/preview", {"pair": "BTC/USDT", "amount": "lots"}, "body.amount"),
        ("/control/buy/preview", {"pair": "BTC/USDT", "leverage": 100}, "body.leverage"),
        ("/control/buy/preview", {}, "body.pair"),
        ("/control/halt", {"flatten": "perhaps"}, "body.flatten"),
        ("/control/buy", {"pair": "BTC/USDT"}, "body.amount"),
    ]:
        resp = await api.post(path, Role.ADMIN, body)
        assert resp.status_code == 422, (path, body, resp.text)
        assert words in resp.json()["error"]["message"], (path, resp.text)
    unknown = await api.post("/control/buy/preview", Role.ADMIN, {"pair": "NOPE/USDT"})
    assert 400 <= unknown.status_code < 500 and "Traceback" not in unknown.text
    assert await _state(api) is TradingState.ACTIVE


@pytest.fixture
async def both(make_runtime: MakeRuntime,
               fake_botapi: FakeBotApiCore) -> AsyncIterator[tuple[ApiHarness, BotHarness]]:
    """Serve one runtime both over the web API and to the real bot."""
    live = await make_runtime()
    async for api in serve(live):
        async with running_bot(fake_botapi, live.runtime.services) as bot:
            yield api, bot


async def test_the_api_writes_the_same_audit_rows_as_the_telegram_commands(
        both: tuple[ApiHarness, BotHarness]) -> None:
    api, bot = both
    await bot.send("/pause")
    await bot.send("/pause")
    await bot.send("/resume")
    await bot.press(await bot.send("/halt"), CONFIRM)
    await bot.send("/resume")
    for path in ("/control/pause", "/control/pause", "/control/resume", "/control/halt", "/control/resume"):
        await api.post(path, Role.TRADER)
    telegram = await _control_rows(api, "telegram:42")
    assert len(telegram) == 5
    assert await _control_rows(api, "api:test-trader") == telegram
