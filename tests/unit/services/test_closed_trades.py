"""ClosedTrades: the cached closed-trade records follow the store (over the real in-memory store)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from tests.contract.store.builders import T0, position
from trader.adapters.store.memory.uow import MemoryStore
from trader.core.domain.ids import PositionId
from trader.core.positions.state import PositionStatus
from trader.services.closed_trades import ClosedTrades


async def _finish(store: MemoryStore, pid: str, hours: int, pnl: str,
                  status: PositionStatus = PositionStatus.CLOSED) -> None:
    async with store.uow_factory() as uow:
        await uow.positions.save(replace(position(pid, status), id=PositionId(pid),
                                         closed_at=T0 + timedelta(hours=hours), realised_pnl=Decimal(pnl)))
        await uow.commit()


async def test_records_follow_every_finished_position_and_are_reused_while_none_finishes() -> None:
    store = MemoryStore()
    closed = ClosedTrades(store.uow_factory)
    assert await closed.records() == ()
    await _finish(store, "a", 1, "5")
    first = await closed.records()
    assert [(r.id, r.pnl) for r in first] == [("a", Decimal(5))]
    assert await closed.records() is first  # nothing finished: the same records, not read again
    await _finish(store, "b", 3, "-2")
    assert [r.id for r in await closed.records()] == ["b", "a"]  # newest close first
    await _finish(store, "c", 2, "0", PositionStatus.CANCELLED)  # finished, but never a trade
    assert [r.id for r in await closed.records()] == ["b", "a"]


async def test_an_older_close_arriving_late_is_seen() -> None:
    store = MemoryStore()
    closed = ClosedTrades(store.uow_factory)
    await _finish(store, "new", 10, "1")
    assert len(await closed.records()) == 1
    await _finish(store, "old", 1, "2")  # the newest stays the same; the count does not
    assert [r.id for r in await closed.records()] == ["new", "old"]
