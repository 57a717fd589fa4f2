"""Contract: equity, risk state, secrets, audit, alert outbox, backtests, AUD rates, paper state."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.contract.store.builders import T0
from trader.core.domain.alerts import Alert, Severity
from trader.core.domain.enums import TradingState
from trader.core.errors import StoreError
from trader.core.risk.state import RiskState
from trader.ports.store import (
    AuditEntry,
    AudRate,
    BacktestRun,
    EquitySnapshot,
    UnitOfWorkFactory,
)

H = timedelta(hours=1)


async def test_equity_snapshots_since_and_latest(uow_factory: UnitOfWorkFactory) -> None:
    snaps = [EquitySnapshot(T0 + i * H, "USDT", Decimal(10_000 + i), Decimal(5_000), Decimal(i))
             for i in (2, 0, 1)]
    async with uow_factory() as uow:
        assert await uow.equity.latest() is None
        assert await uow.equity.count() == 0
        for s in snaps:
            await uow.equity.add(s)
        await uow.commit()
    async with uow_factory() as uow:
        assert [s.equity for s in await uow.equity.since(T0 + H)] == [Decimal(10_001), Decimal(10_002)]
        assert await uow.equity.latest() == snaps[0]
        assert await uow.equity.count() == 3


async def test_risk_state_survives_and_save_replaces_cooldowns(uow_factory: UnitOfWorkFactory) -> None:
    state = RiskState(
        trading_state=TradingState.HALTED, halt_reason="drawdown 25% reached", flatten_requested=True,
        changed_at=T0, day=date(2024, 3, 1), day_start_equity=Decimal(10_000), trades_today=3,
        realised_today=Decimal("-12.5"), daily_loss_day=date(2024, 3, 1), peak_equity=Decimal(12_000),
        last_equity=Decimal("9000.25"), consecutive_stops=2,
        cooldowns={"BTC/USDT": T0 + H, "ETH/USDT": T0 + 2 * H},
    )
    async with uow_factory() as uow:
        assert await uow.risk.get() is None
        await uow.risk.save(state)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.risk.get() == state
        await uow.risk.save(RiskState(cooldowns={"SOL/USDT": T0}))
        await uow.commit()
    async with uow_factory() as uow:
        got = await uow.risk.get()
    assert got == RiskState(cooldowns={"SOL/USDT": T0})
    assert got is not None and got.trading_state is TradingState.ACTIVE


async def test_secret_put_keeps_created_at_and_delete_reports_absence(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.secrets.put("exchange.api_key", b"gAAAA-one", T0)
        await uow.secrets.put("a.first", b"\x00\xff", T0)
        await uow.secrets.put("exchange.api_key", b"gAAAA-two", T0 + H)
        await uow.commit()
    async with uow_factory() as uow:
        got = await uow.secrets.get("exchange.api_key")
        assert got is not None
        assert (got.ciphertext, got.created_at, got.updated_at) == (b"gAAAA-two", T0, T0 + H)
        assert [s.name for s in await uow.secrets.all()] == ["a.first", "exchange.api_key"]
        assert await uow.secrets.delete("a.first") is True
        assert await uow.secrets.delete("a.first") is False
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.secrets.get("a.first") is None


async def test_audit_log_appends_and_lists_newest_first(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        first = await uow.audit.add(AuditEntry(T0, "tg:42", "halt", "reason=manual"))
        second = await uow.audit.add(AuditEntry(T0 + H, "tg:99", "buy", "BTC/USDT", result="refused"))
        await uow.commit()
    assert second > first
    async with uow_factory() as uow:
        recent = await uow.audit.recent()
        expected = [(second, "buy", "refused"), (first, "halt", "ok")]
        assert [(e.id, e.action, e.result) for e in recent] == expected
        assert len(await uow.audit.recent(limit=1)) == 1


async def test_alert_outbox_delivers_and_counts_failures(uow_factory: UnitOfWorkFactory) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    async with uow_factory() as uow:
        a = await uow.alerts.enqueue(Alert("entry", "Bought BTC", Severity.INFO, image=png), T0)
        b = await uow.alerts.enqueue(Alert("error", "Exchange down", Severity.ERROR, dedupe_key="down"), T0)
        await uow.commit()
    async with uow_factory() as uow:
        pending = await uow.alerts.pending()
        assert [p.id for p in pending] == [a, b]
        assert pending[0].alert.image == png and pending[1].alert.dedupe_key == "down"
        await uow.alerts.mark_failed(a, "timed out")
        await uow.alerts.mark_delivered(b, T0 + H)
        await uow.commit()
    async with uow_factory() as uow:
        (left,) = await uow.alerts.pending()
        assert (left.id, left.attempts, left.last_error, left.delivered_at) == (a, 1, "timed out", None)
        with pytest.raises(StoreError):
            await uow.alerts.mark_delivered(10_000, T0)


async def test_backtest_run_round_trips_json_decimals_as_text(uow_factory: UnitOfWorkFactory) -> None:
    run = BacktestRun(
        created_at=T0, strategy="breakout", params={"lookback": 20, "threshold": Decimal("1.5")},
        pairs=("BTC/USDT", "ETH/USDT"), timeframe="1h", period_start=T0 - 30 * 24 * H, period_end=T0,
        kpis={"win_rate": 0.55, "profit_factor": float("inf"), "net": Decimal("123.45")},
        trades=[{"symbol": "BTC/USDT", "entry": T0, "pnl": Decimal("-1.2")}],
    )
    async with uow_factory() as uow:
        run_id = await uow.backtests.add(run)
        later = await uow.backtests.add(replace(run, strategy="mean_reversion"))
        await uow.commit()
    async with uow_factory() as uow:
        got = await uow.backtests.get(run_id)
        assert await uow.backtests.get(99_999) is None
        assert [r.id for r in await uow.backtests.recent()] == [later, run_id]
    assert got is not None
    assert got.params == {"lookback": 20, "threshold": "1.5"}
    assert got.pairs == ("BTC/USDT", "ETH/USDT")
    assert got.kpis == {"win_rate": 0.55, "profit_factor": None, "net": "123.45"}
    assert list(got.trades) == [{"symbol": "BTC/USDT", "entry": T0.isoformat(), "pnl": "-1.2"}]


async def test_aud_rates_upsert_and_fall_back_to_previous_day(uow_factory: UnitOfWorkFactory) -> None:
    fri, sat, mon = date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 4)
    async with uow_factory() as uow:
        assert await uow.aud_rates.upsert([AudRate(fri, "USD", Decimal("1.5321"), "rba"),
                                           AudRate(mon, "USD", Decimal("1.5400"), "rba")]) == 2
        await uow.aud_rates.upsert([AudRate(fri, "USD", Decimal("1.5322"), "rba-revised")])
        await uow.commit()
    async with uow_factory() as uow:
        exact = await uow.aud_rates.get("USD", fri)
        assert exact is not None and (exact.rate, exact.source) == (Decimal("1.5322"), "rba-revised")
        assert await uow.aud_rates.get("USD", sat) is None
        weekend = await uow.aud_rates.on_or_before("USD", sat)
        assert weekend is not None and weekend.day == fri
        assert await uow.aud_rates.on_or_before("USD", date(2024, 2, 1)) is None
        assert await uow.aud_rates.on_or_before("EUR", mon) is None


async def test_paper_account_core_replaces_and_is_a_copy(uow_factory: UnitOfWorkFactory) -> None:
    doc = {"balances": {"USDT": Decimal("10000.5")}, "orders": [{"id": "o1", "price": "1.1"}]}
    async with uow_factory() as uow:
        assert await uow.paper_account.core("binance") is None
        await uow.paper_account.save("binance", doc, [], [], T0)
        await uow.commit()
    async with uow_factory() as uow:
        got = await uow.paper_account.core("binance")
        assert got == {"balances": {"USDT": "10000.5"}, "orders": [{"id": "o1", "price": "1.1"}]}
        got["orders"].clear()
        assert (await uow.paper_account.core("binance"))["orders"] != []
        await uow.paper_account.save("binance", {"balances": {}}, [], [], T0 + H)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.paper_account.core("binance") == {"balances": {}}
