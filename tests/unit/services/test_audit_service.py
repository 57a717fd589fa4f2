"""AuditService: record commands, parameter changes and orders; query newest first with filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from trader.adapters.store.memory.uow import MemoryStore
from trader.runtime.clock import SimClock
from trader.services.audit import AuditService, change_detail

T0 = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


async def _filled() -> tuple[AuditService, MemoryStore, SimClock]:
    memory, clock = MemoryStore(), SimClock(T0)
    audit = AuditService(memory.uow, clock)
    rows = [
        ("telegram:111", "command", "/pause", "ok"),
        ("telegram:111", "param.change", "risk.max_open_positions: 5 → 3", "ok"),
        ("engine", "order.intent", "buy 0.01 BTC/USDT", "ok"),
        ("engine", "order.filled", "buy 0.01 BTC/USDT @ 64000", "ok"),
        ("telegram:999", "command", "/halt", "refused: not allowed"),
        ("cli", "secrets.set", "telegram.token", "ok"),
    ]
    for actor, action, detail, result in rows:
        clock.advance(timedelta(minutes=1))
        await audit.record(actor, action, detail, result)
    return audit, memory, clock


async def test_recent_returns_newest_first_with_timestamps() -> None:
    audit, _, _ = await _filled()
    entries = await audit.recent(3)
    assert [e.action for e in entries] == ["secrets.set", "command", "order.filled"]
    assert entries[0].ts == T0 + timedelta(minutes=6)
    assert entries[1].result == "refused: not allowed"
    assert entries[0].id is not None


async def test_filter_by_actor_is_case_insensitive() -> None:
    audit, _, _ = await _filled()
    entries = await audit.recent(10, actor="TELEGRAM:111")
    assert [e.detail for e in entries] == ["risk.max_open_positions: 5 → 3", "/pause"]


async def test_action_filter_matches_dotted_sub_actions_only() -> None:
    audit, _, _ = await _filled()
    assert [e.action for e in await audit.recent(10, action="order")] == ["order.filled", "order.intent"]
    assert [e.action for e in await audit.recent(10, action="order.intent")] == ["order.intent"]
    assert await audit.recent(10, action="ord") == []


async def test_filters_combine_and_limit_applies_after_filtering() -> None:
    audit, _, _ = await _filled()
    entries = await audit.recent(1, actor="telegram:999", action="command")
    assert [e.detail for e in entries] == ["/halt"]
    assert len(await audit.recent(1, action="command")) == 1


async def test_record_in_commits_with_the_callers_transaction_only() -> None:
    memory, clock = MemoryStore(), SimClock(T0)
    audit = AuditService(memory.uow, clock)
    async with memory.uow() as uow:
        await audit.record_in(uow, "engine", "order.intent", "rolled back")
    async with memory.uow() as uow:
        await audit.record_in(uow, "engine", "order.intent", "kept")
        await uow.commit()
    assert [e.detail for e in await audit.recent(10)] == ["kept"]


async def test_record_change_masks_secret_parameters() -> None:
    memory, clock = MemoryStore(), SimClock(T0)
    audit = AuditService(memory.uow, clock)
    await audit.record_change("telegram:1", "risk.risk_per_trade", "0.01", "0.02")
    await audit.record_change("cli", "exchange.api_key", "old-key-123456", "new-key-654321")
    entries = await audit.recent(10)
    assert entries[1].detail == "risk.risk_per_trade: 0.01 → 0.02"
    assert entries[0].detail == "exchange.api_key: ******** → ********"
    assert entries[0].action == "param.change"


def test_change_detail_formats_old_to_new() -> None:
    assert change_detail("risk.max_open_positions", 5, 3) == "risk.max_open_positions: 5 → 3"
    assert "hunter2" not in change_detail("telegram.token", "hunter2", "x")


async def test_bad_arguments_are_refused() -> None:
    audit = AuditService(MemoryStore().uow, SimClock(T0))
    with pytest.raises(ValueError, match="actor and an action"):
        await audit.record("", "command")
    with pytest.raises(ValueError, match="limit"):
        await audit.recent(0)


async def test_long_detail_is_trimmed() -> None:
    memory, clock = MemoryStore(), SimClock(T0)
    audit = AuditService(memory.uow, clock)
    await audit.record("engine", "order.intent", "x" * 5000)
    assert len((await audit.recent(1))[0].detail) == 2000
