"""The drift report on a paper account made by the shipped replay of the bundled candles (real SQLite store).

Untouched, every trade of the account is the backtest's trade. A fill changed by hand in the database
shows up as exactly that trade: a worse price as slippage, a later time as a logic difference, which
queues a warning alert in the outbox.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from tests.fixtures.live_runtime import ADMIN_ACTOR, LiveRuntime, MakeRuntime
from trader.core.analytics.drift import order_purposes
from trader.core.domain.enums import OrderPurpose
from trader.core.domain.ids import PositionId
from trader.core.errors import DataError

# The replay starts three candles before breakout's first signal on the bundled BTC/ETH 1h candles;
# 345 candles hold three round trips (the shipped replay and the backtest agree on them).
CANDLES = 345


async def _closed_trades(live: LiveRuntime) -> int:
    async with live.uow() as uow:
        return await uow.positions.count_finished()


async def _exit_fill(live: LiveRuntime, path: str, position_id: str) -> tuple[int, str, str]:
    """Return (row id, price, ts) of the position's exit fill, read straight from the SQLite file."""
    async with live.uow() as uow:
        position = await uow.positions.get(PositionId(position_id))
    assert position is not None
    purposes = order_purposes(position)
    exits = [order for order, purpose in purposes.items() if purpose is not OrderPurpose.ENTRY]
    with sqlite3.connect(path) as db:
        rows = db.execute(f"SELECT id, price, ts FROM fills WHERE client_order_id IN "
                          f"({', '.join('?' * len(exits))})", exits).fetchall()
    assert len(rows) == 1
    row: tuple[int, str, str] = rows[0]
    return row


async def test_replayed_paper_account_drifts_only_where_a_fill_was_changed_by_hand(
        make_runtime: MakeRuntime) -> None:
    live = await make_runtime(strategies=("breakout",))
    await live.advance(CANDLES)
    assert await _closed_trades(live) >= 3
    drift = live.runtime.services.drift

    clean = await drift.report()
    assert clean.matched >= 3 and clean.missing == 0 and clean.extra == 0
    assert clean.logic_differences == () and clean.differing == ()
    assert clean.slippage == clean.fees == clean.size == clean.logic == 0

    path = live.url.removeprefix("sqlite+aiosqlite:///")
    second = [t for t in clean.trades if t.status == "matched"][1]
    assert second.account is not None
    row_id, price, ts = await _exit_fill(live, path, second.account.position_id)
    worse = Decimal(price) * Decimal("0.99")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE fills SET price = ? WHERE id = ?", (str(worse), row_id))
    priced = await drift.report()
    changed = [t for t in priced.trades if t.status == "matched"][1]
    assert priced.differing == (changed,) and priced.logic_differences == ()
    assert changed.account is not None and changed.backtest is not None
    assert changed.account.exit_price == worse and changed.backtest.exit_price == Decimal(price)
    assert changed.slippage == (worse - Decimal(price)) * changed.account.amount and changed.logic == 0
    assert priced.matched == clean.matched

    later = datetime.fromisoformat(ts) + timedelta(hours=2)  # the stop "filled" two candles later
    with sqlite3.connect(path) as db:
        db.execute("UPDATE fills SET ts = ? WHERE id = ?", (later.isoformat(sep=" "), row_id))
    await live.runtime.lifecycle._drift()  # the nightly job: the report with its alert
    timed = await drift.report()
    assert [t.account.position_id for t in timed.differing if t.account] == [changed.account.position_id]
    assert [t.why for t in timed.logic_differences] == [("exit time",)]
    async with live.uow() as uow:
        alerts = [a.alert for a in await uow.alerts.pending(100) if a.alert.kind == "drift"]
    assert len(alerts) == 1 and "1 trade(s) differ" in alerts[0].text
    assert changed.pair in alerts[0].text


async def test_a_report_before_any_history_says_so(make_runtime: MakeRuntime) -> None:
    live = await make_runtime(strategies=("breakout",))
    with pytest.raises(DataError, match="no equity snapshots") as raised:
        await live.runtime.services.drift.report()
    assert "no history" in raised.value.user_message
    await live.runtime.lifecycle._drift()  # the nightly job skips quietly: nothing has traded yet
    async with live.uow() as uow:
        assert not [a for a in await uow.alerts.pending(100) if a.alert.kind == "drift"]


async def test_a_month_of_both_shipped_strategies_replayed_shows_no_logic_difference(
        make_runtime: MakeRuntime) -> None:
    # Both strategies share the paper balance but are backtested one by one with all of it: their
    # amounts differ a little (size, an execution part), never a decision.
    live = await make_runtime(strategies=("breakout", "bollinger_reversion"))
    await live.advance(700)
    view = await live.runtime.services.drift.report()
    assert view.matched >= 8 and view.missing == 0 and view.extra == 0
    assert view.logic_differences == () and view.logic == 0
    assert {t.strategy for t in view.trades} == {"breakout", "bollinger_reversion"}
    assert all(t.slippage == 0 and not t.why for t in view.trades)


async def test_a_risk_change_mid_account_is_applied_at_its_time(make_runtime: MakeRuntime) -> None:
    # A paper account's /settings change is audited at the moment it takes effect; a replay stamps
    # its audit entries with the wall clock, so the test moves the entry to the replay's clock. 0.001
    # sizes below the max_position_pct cap even for a tight stop, so the change shows in every size.
    live = await make_runtime(strategies=("breakout",))

    async def closed(count: int) -> bool:
        return await _closed_trades(live) >= count

    await live.advance_until(lambda: closed(1))
    control = live.runtime.services.control
    change = await control.preview_setting("risk.risk_per_trade", "0.001")
    assert (await control.apply_setting(change, ADMIN_ACTOR)).ok
    at = live.runtime.lifecycle.parts.clock.now()
    path = live.url.removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE audit_log SET ts = ? WHERE action = 'param.change'",
                   (at.replace(tzinfo=None).isoformat(sep=" "),))
    await live.advance_until(lambda: closed(3))  # two round trips sized with the new risk
    drift = live.runtime.services.drift

    applied = await drift.report()
    assert [(c.key, c.new) for c in applied.changes] == [("risk.risk_per_trade", "0.001")]
    assert applied.matched >= 2 and applied.logic_differences == () and applied.differing == ()

    with sqlite3.connect(path) as db:  # without the change the backtest sizes the later trades larger
        db.execute("DELETE FROM audit_log WHERE action = 'param.change'")
    ignored = await drift.report()
    later = [t for t in ignored.trades if t.entry_time > at]
    assert any(t.why == ("size",) for t in later)  # (a trade capped by max_position_pct is not resized)
    assert all(t.why in ((), ("size",)) for t in later)
    assert all(not t.why for t in ignored.trades if t.entry_time <= at)
