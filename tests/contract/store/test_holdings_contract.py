"""Contract: opening holdings (parcels acquired before the bot's records) on every store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from trader.ports.store import OpeningParcel, UnitOfWorkFactory

T = datetime(2021, 5, 1, 3, 30, 15, 123456, tzinfo=UTC)


async def test_opening_holdings_round_trip_exactly_oldest_first(uow_factory: UnitOfWorkFactory) -> None:
    usdt = OpeningParcel("USDT", Decimal("10000"), T + timedelta(days=300),
                         Decimal("14512.345678901234567891"), "starting balance", "bank statement")
    btc = OpeningParcel("BTC", Decimal("0.123456789012345678"), T, Decimal("9000.50"))
    async with uow_factory() as uow:
        assert await uow.opening_holdings.all() == []
        assert await uow.opening_holdings.upsert([usdt, btc]) == 2
        assert await uow.opening_holdings.upsert([]) == 0
        await uow.commit()
    async with uow_factory() as uow:
        got = await uow.opening_holdings.all()
    assert [p.asset for p in got] == ["BTC", "USDT"]
    assert got[0] == btc and got[0].acquired_at.tzinfo is not None
    assert got[1].cost_aud == Decimal("14512.345678901234567891").quantize(Decimal("1e-18"))
    assert (got[1].note, got[1].source) == ("starting balance", "bank statement")


async def test_opening_holdings_upsert_by_asset_and_time_replaces_and_is_idempotent(
        uow_factory: UnitOfWorkFactory) -> None:
    first = OpeningParcel("BTC", Decimal("1"), T, Decimal("50000"), "old")
    sydney = T.astimezone(timezone(timedelta(hours=10)))  # the same instant in another offset
    corrected = OpeningParcel("BTC", Decimal("1.5"), sydney, Decimal("75000"), "corrected")
    other_asset = OpeningParcel("ETH", Decimal("2"), T, Decimal("4000"))
    for batch in ([first, other_asset], [first, other_asset], [first, corrected]):
        async with uow_factory() as uow:
            assert await uow.opening_holdings.upsert(batch) == len({p.key for p in batch})
            await uow.commit()
    async with uow_factory() as uow:
        got = await uow.opening_holdings.all()
    assert [(p.asset, p.quantity, p.cost_aud, p.note) for p in got] == [
        ("BTC", Decimal("1.5"), Decimal("75000"), "corrected"), ("ETH", Decimal("2"), Decimal("4000"), "")]


async def test_opening_holdings_are_discarded_without_commit(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.opening_holdings.upsert([OpeningParcel("USDT", Decimal("1"), T, Decimal("1.4"))])
    async with uow_factory() as uow:
        assert await uow.opening_holdings.all() == []
