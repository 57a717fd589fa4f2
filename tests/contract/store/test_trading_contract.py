"""Contract: orders, fills, positions and the transaction rules, on every store implementation."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy.exc import StatementError

from tests.contract.store.builders import T0, fill, order, position
from trader.core.domain.enums import OrderStatus
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol
from trader.core.errors import InvariantViolation, StoreError
from trader.core.positions.state import PositionStatus
from trader.ports.store import AuditEntry, UnitOfWorkFactory


async def test_order_round_trips_every_field(uow_factory: UnitOfWorkFactory) -> None:
    record = order(exchange_order_id="x9", fee_currency="USDT", fee=Decimal("0.05"))
    async with uow_factory() as uow:
        assert await uow.orders.add(record) is True
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.orders.get(ClientOrderId("c1")) == record
        assert await uow.orders.get(ClientOrderId("nope")) is None


async def test_order_added_twice_keeps_the_first(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.orders.add(order())
        assert await uow.orders.add(order(amount=Decimal(9))) is False
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.orders.get(ClientOrderId("c1"))
        assert stored is not None and stored.amount == Decimal("0.12345678")


async def test_order_update_records_progress_keeps_created_at(uow_factory: UnitOfWorkFactory) -> None:
    later = T0 + timedelta(minutes=3)
    async with uow_factory() as uow:
        await uow.orders.add(order())
        await uow.orders.update(order(status=OrderStatus.PARTIALLY_FILLED, filled=Decimal("0.1"),
                                      average_price=Decimal("59001"), exchange_order_id="42",
                                      updated_at=later, created_at=later))
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.orders.get(ClientOrderId("c1"))
    assert stored is not None
    assert (stored.status, stored.filled, stored.average_price) == (
        OrderStatus.PARTIALLY_FILLED, Decimal("0.1"), Decimal("59001"))
    assert (stored.created_at, stored.updated_at, stored.exchange_order_id) == (T0, later, "42")


async def test_order_update_refuses_illegal_move_and_unknown(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.orders.add(order(status=OrderStatus.FILLED))
        with pytest.raises(InvariantViolation):
            await uow.orders.update(order(status=OrderStatus.OPEN))
        with pytest.raises(StoreError):
            await uow.orders.update(order(cid="never-added"))


async def test_open_orders_skip_terminal_and_filter_by_symbol(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.orders.add(order("a", status=OrderStatus.OPEN))
        await uow.orders.add(order("b", status=OrderStatus.FILLED))
        await uow.orders.add(order("c", symbol="ETH/USDT", status=OrderStatus.PENDING))
        await uow.orders.add(order("d", position="p2", status=OrderStatus.CANCELLED))
        await uow.commit()
    async with uow_factory() as uow:
        assert [o.client_order_id for o in await uow.orders.open()] == ["a", "c"]
        assert [o.client_order_id for o in await uow.orders.open(Symbol("ETH/USDT"))] == ["c"]
        assert [o.client_order_id for o in await uow.orders.for_position(PositionId("p1"))] == ["a", "b", "c"]


async def test_fill_is_recorded_once_per_symbol_and_trade_id(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.fills.add(fill("t1", minutes=2)) is True
        assert await uow.fills.add(fill("t1", minutes=2)) is False
        assert await uow.fills.add(fill("t1", symbol="ETH/USDT", cid="c2")) is True  # ids are per market
        assert await uow.fills.add(fill("t0", minutes=1)) is True
        await uow.commit()
    async with uow_factory() as uow:
        assert [f.trade_id for f in await uow.fills.for_order(ClientOrderId("c1"))] == ["t0", "t1"]
        expected = [fill("t0", minutes=1), fill("t1", minutes=2)]
        assert await uow.fills.for_order(ClientOrderId("c1")) == expected
        since = await uow.fills.since(T0 + timedelta(minutes=1), Symbol("BTC/USDT"))
        assert [f.trade_id for f in since] == ["t0", "t1"]
        assert len(await uow.fills.since(T0)) == 3


async def test_position_round_trips_every_field_and_save_replaces(uow_factory: UnitOfWorkFactory) -> None:
    pos = position()
    async with uow_factory() as uow:
        await uow.positions.save(pos)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.positions.get(PositionId("p1")) == pos
        await uow.positions.save(replace(pos, stop_price=Decimal("2950"), stop_attempt=3))
        await uow.commit()
    async with uow_factory() as uow:
        got = await uow.positions.get(PositionId("p1"))
        assert got == replace(pos, stop_price=Decimal("2950"), stop_attempt=3)
        assert await uow.positions.get(PositionId("missing")) is None


async def test_position_with_optional_fields_unset_round_trips(uow_factory: UnitOfWorkFactory) -> None:
    bare = position(status=PositionStatus.PENDING_ENTRY, entry_price=None, exit_price=None, stop_price=None,
                    take_profit=None, high_water=None, opened_at=None, closed_at=None, exit_reason=None,
                    created_at=None, entry_limit=None, initial_stop=None,
                    requested_price=None)
    async with uow_factory() as uow:
        await uow.positions.save(bare)
        assert await uow.positions.get(bare.id) == bare


async def test_positions_split_into_unfinished_and_paged_finished(uow_factory: UnitOfWorkFactory) -> None:
    h = timedelta(hours=1)
    async with uow_factory() as uow:
        await uow.positions.save(position("open2", PositionStatus.OPEN, created_at=T0 + h))
        await uow.positions.save(position("open1", PositionStatus.EXITING, created_at=T0))
        await uow.positions.save(position("err", PositionStatus.ERROR, created_at=T0 + 2 * h))
        await uow.positions.save(position("c1", PositionStatus.CLOSED, closed_at=T0 + h))
        await uow.positions.save(position("c2", PositionStatus.CLOSED, closed_at=T0 + 3 * h))
        await uow.positions.save(position("rej", PositionStatus.REJECTED, closed_at=None))
        await uow.positions.save(position("c3", PositionStatus.CANCELLED, closed_at=T0 + 2 * h,
                                          symbol=Symbol("BTC/USDT")))
        await uow.commit()
    async with uow_factory() as uow:
        assert [p.id for p in await uow.positions.unfinished()] == ["open1", "open2", "err"]
        assert [p.id for p in await uow.positions.finished()] == ["c2", "c3", "c1", "rej"]
        assert [p.id for p in await uow.positions.finished(limit=2, offset=1)] == ["c3", "c1"]
        assert [p.id for p in await uow.positions.finished(symbol=Symbol("BTC/USDT"))] == ["c3"]
        assert await uow.positions.count_finished() == 4
        assert await uow.positions.count_finished(Symbol("ETH/USDT")) == 3
        assert [p.id for p in await uow.positions.closed_between(T0 + h)] == ["c1", "c3", "c2"]
        assert [p.id for p in await uow.positions.closed_between(T0, T0 + 3 * h)] == ["c1", "c3"]


async def test_leaving_without_commit_discards_changes(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.orders.add(order("kept"))
        await uow.commit()
        await uow.orders.add(order("dropped"))
    async with uow_factory() as uow:
        assert await uow.orders.get(ClientOrderId("kept")) is not None
        assert await uow.orders.get(ClientOrderId("dropped")) is None


async def test_exception_inside_block_rolls_back(uow_factory: UnitOfWorkFactory) -> None:
    with pytest.raises(RuntimeError):
        async with uow_factory() as uow:
            await uow.positions.save(position())
            raise RuntimeError("boom")
    async with uow_factory() as uow:
        assert await uow.positions.get(PositionId("p1")) is None


async def test_explicit_rollback_discards_only_uncommitted_work(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.orders.add(order("a"))
        await uow.commit()
        await uow.orders.add(order("b"))
        await uow.rollback()
        assert await uow.orders.get(ClientOrderId("b")) is None
        await uow.orders.add(order("c"))
        await uow.commit()
    async with uow_factory() as uow:
        assert [o.client_order_id for o in await uow.orders.open()] == ["a", "c"]


async def test_money_keeps_38_digits_exactly(uow_factory: UnitOfWorkFactory) -> None:
    big = Decimal("12345678901234567890.123456789012345678")
    async with uow_factory() as uow:
        await uow.orders.add(order(amount=big, price=Decimal("0.000000000000000001")))
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.orders.get(ClientOrderId("c1"))
    assert stored is not None
    assert str(stored.amount) == "12345678901234567890.123456789012345678"
    assert stored.price == Decimal("1E-18")


async def test_timestamps_come_back_aware_utc(uow_factory: UnitOfWorkFactory) -> None:
    sydney = timezone(timedelta(hours=11))
    local = datetime(2024, 3, 1, 23, 0, tzinfo=sydney)
    async with uow_factory() as uow:
        await uow.orders.add(order(created_at=local, updated_at=local))
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.orders.get(ClientOrderId("c1"))
    assert stored is not None
    assert stored.created_at == datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    assert stored.created_at.utcoffset() == timedelta(0)


async def test_naive_timestamp_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    naive = datetime(2024, 3, 1, 12, 0)
    async with uow_factory() as uow:
        with pytest.raises((ValueError, StatementError)):
            await uow.orders.add(order(created_at=naive))


async def test_concurrent_units_of_work_all_commit(uow_factory: UnitOfWorkFactory) -> None:
    async def writer(n: int) -> None:
        async with uow_factory() as uow:
            await uow.orders.add(order(f"w{n}"))
            await asyncio.sleep(0)  # let the others start their transactions meanwhile
            await uow.fills.add(fill(f"t{n}", cid=f"w{n}"))
            await uow.commit()

    await asyncio.gather(*(writer(n) for n in range(6)))
    async with uow_factory() as uow:
        assert len(await uow.orders.open()) == 6
        assert len(await uow.fills.since(T0)) == 6


async def test_inner_unit_of_work_sees_only_committed_data(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as outer:
        await outer.positions.save(position())
        await outer.commit()  # persist, commit, then call out: the inner one may open now
        async with uow_factory() as inner:
            seen = await inner.positions.get(PositionId("p1"))
            await inner.audit.add(AuditEntry(T0, "cli", "inner"))
            await inner.commit()
        assert seen == position()
        assert len(await outer.audit.recent()) == 1


async def test_inner_unit_of_work_during_open_transaction_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as outer:
        await outer.positions.get(PositionId("p1"))  # a transaction is open now
        with pytest.raises(StoreError, match="outer one"):
            async with uow_factory():
                pass

        async def child() -> None:
            async with uow_factory():
                pass

        with pytest.raises(StoreError):
            await asyncio.gather(child())  # a task started inside inherits the open transaction
        await outer.rollback()
        async with uow_factory() as inner:  # nothing open any more
            assert await inner.positions.get(PositionId("p1")) is None
