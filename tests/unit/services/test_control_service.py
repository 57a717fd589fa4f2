"""ControlService over the real runtime (container, SQLite, PaperExchange): persisted, audited, refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.fixtures.live_runtime import ADMIN_ACTOR, LiveRuntime, MakeRuntime, stop
from trader.core.domain.enums import ExitReason, TradingState
from trader.core.errors import DataError, InputError
from trader.core.positions.state import PositionStatus
from trader.core.risk.state import RiskState


async def _risk(live: LiveRuntime) -> RiskState:
    async with live.uow() as uow:
        return await uow.risk.get() or RiskState()


async def _audit(live: LiveRuntime) -> list[tuple[str, str, str]]:
    async with live.uow() as uow:
        return [(e.actor, e.action, e.result) for e in await uow.audit.recent(50)]


async def test_pause_is_persisted_audited_and_survives_a_restart(make_runtime: MakeRuntime) -> None:
    live = await make_runtime()
    result = await live.runtime.services.control.pause(ADMIN_ACTOR)
    assert result.ok
    assert (await _risk(live)).trading_state is TradingState.PAUSED
    assert ("telegram:42", "control.pause", "ok") in await _audit(live)
    await stop(live)
    again = await make_runtime()
    assert (await again.runtime.services.queries.status()).state is TradingState.PAUSED


async def test_pause_twice_is_refused_as_a_value_and_changes_nothing(live_runtime: LiveRuntime) -> None:
    control = live_runtime.runtime.services.control
    assert (await control.pause(ADMIN_ACTOR)).ok
    changed_at = (await _risk(live_runtime)).changed_at
    second = await control.pause(ADMIN_ACTOR)
    assert not second.ok and second.refused_reason == "trading is already paused"
    assert (await _risk(live_runtime)).changed_at == changed_at
    entry = ("telegram:42", "control.pause", "refused: trading is already paused")
    assert entry in await _audit(live_runtime)


async def test_resume_when_active_is_refused_and_after_pause_works(live_runtime: LiveRuntime) -> None:
    control = live_runtime.runtime.services.control
    assert not (await control.resume(ADMIN_ACTOR)).ok
    await control.pause(ADMIN_ACTOR)
    assert (await control.resume(ADMIN_ACTOR)).ok
    assert (await _risk(live_runtime)).trading_state is TradingState.ACTIVE


async def test_halt_with_flatten_closes_the_open_position_at_market(live_runtime: LiveRuntime) -> None:
    position = await live_runtime.open_position()
    result = await live_runtime.runtime.services.control.halt(ADMIN_ACTOR, flatten=True)
    assert result.ok
    await live_runtime.advance(1)  # the exit market order fills at the next candle's open
    async with live_runtime.uow() as uow:
        closed = await uow.positions.get(position.id)
    assert closed is not None and closed.status is PositionStatus.CLOSED
    assert closed.exit_reason is ExitReason.HALT
    assert (await _risk(live_runtime)).trading_state is TradingState.HALTED


async def test_halt_twice_without_flatten_is_refused(live_runtime: LiveRuntime) -> None:
    control = live_runtime.runtime.services.control
    assert (await control.halt(ADMIN_ACTOR, flatten=False)).ok
    again = await control.halt(ADMIN_ACTOR, flatten=False)
    assert not again.ok and again.refused_reason == "trading is already halted"


async def test_close_one_position_then_unknown_ids_are_refused(live_runtime: LiveRuntime) -> None:
    control = live_runtime.runtime.services.control
    position = await live_runtime.open_position()
    preview = await control.preview_close(position.id)
    assert [p.id for p in preview.positions] == [position.id]
    assert (await control.close(position.id, ADMIN_ACTOR)).ok
    await live_runtime.advance(1)
    async with live_runtime.uow() as uow:
        closed = await uow.positions.get(position.id)
    assert closed is not None and closed.exit_reason is ExitReason.MANUAL
    refused = await control.close(position.id, ADMIN_ACTOR)
    assert not refused.ok and "no longer open" in (refused.refused_reason or "")
    with pytest.raises(InputError):
        await control.preview_close("no-such-position")


async def test_manual_buy_goes_through_risk_and_opens_a_position(live_runtime: LiveRuntime) -> None:
    await live_runtime.advance(1)  # a price for the paper exchange
    control = live_runtime.runtime.services.control
    preview = await control.preview_buy("ETH/USDT", None)
    assert preview.amount > 0 and preview.cost == preview.amount * preview.price
    assert preview.stop_price is not None and preview.stop_price < preview.price
    assert (await control.buy(preview, ADMIN_ACTOR)).ok
    await live_runtime.advance(1)
    held = [p for p in await live_runtime.active() if p.strategy == "manual"]
    assert len(held) == 1 and held[0].filled > 0 and held[0].filled <= preview.amount


async def test_manual_buy_while_paused_is_refused_with_the_risk_reason(live_runtime: LiveRuntime) -> None:
    await live_runtime.advance(1)
    control = live_runtime.runtime.services.control
    preview = await control.preview_buy("ETH/USDT", Decimal("0.01"))
    await control.pause(ADMIN_ACTOR)
    result = await control.buy(preview, ADMIN_ACTOR)
    assert not result.ok and result.refused_reason == "paused"
    assert not [p for p in await live_runtime.active() if p.strategy == "manual"]


async def test_preview_buy_of_an_unknown_pair_raises_data_error(live_runtime: LiveRuntime) -> None:
    with pytest.raises(DataError):
        await live_runtime.runtime.services.control.preview_buy("DOGE/USDT", None)


async def test_setting_change_is_validated_persisted_audited_and_applied(make_runtime: MakeRuntime) -> None:
    live = await make_runtime()
    control = live.runtime.services.control
    with pytest.raises(InputError, match=r"risk\.risk_per_trade"):
        await control.preview_setting("risk.risk_per_trade", "1.5")
    change = await control.preview_setting("risk.risk_per_trade", "0.02")
    assert (change.old, change.new) == ("0.01", "0.02")
    assert (await control.apply_setting(change, ADMIN_ACTOR)).ok
    engine = live.runtime.lifecycle.parts.engine
    assert engine.trading.runner.options.risk.risk_per_trade == Decimal("0.02")
    async with live.uow() as uow:
        entries = await uow.audit.recent(5)
    assert any(e.action == "param.change" and "0.01 → 0.02" in e.detail for e in entries)
    stale = await control.apply_setting(change, ADMIN_ACTOR)  # old value no longer matches
    assert not stale.ok
    await stop(live)
    again = await make_runtime()
    views = {v.key: v.value for v in (await again.runtime.services.queries.settings()).params}
    assert views["risk.risk_per_trade"] == "0.02"


async def test_strategy_parameter_change_rebuilds_the_running_strategy(live_runtime: LiveRuntime) -> None:
    control = live_runtime.runtime.services.control
    change = await control.preview_setting("breakout.lookback", "30")
    assert (await control.apply_setting(change, ADMIN_ACTOR)).ok
    views = {v.key: v.value for v in (await live_runtime.runtime.services.queries.settings()).params}
    assert views["breakout.lookback"] == "30"
    with pytest.raises(InputError):
        await control.preview_setting("breakout.lookback", "1")  # below the Param minimum
    await live_runtime.advance(2)  # ticks keep running with the new parameters


async def test_unlock_removes_a_cooldown_and_refuses_when_none(live_runtime: LiveRuntime) -> None:
    control = live_runtime.runtime.services.control
    position = await live_runtime.open_position()
    await control.close(position.id, ADMIN_ACTOR)
    await live_runtime.advance(1)
    locks = await live_runtime.runtime.services.queries.locks()
    assert [lock.pair for lock in locks] == [position.symbol]
    assert (await control.unlock(position.symbol, ADMIN_ACTOR)).ok
    assert await live_runtime.runtime.services.queries.locks() == ()
    assert not (await control.unlock(position.symbol, ADMIN_ACTOR)).ok


async def test_reload_rebuilds_the_enabled_strategies(live_runtime: LiveRuntime) -> None:
    result = await live_runtime.runtime.services.control.reload(ADMIN_ACTOR)
    assert result.ok and "1 strategy" in result.message
