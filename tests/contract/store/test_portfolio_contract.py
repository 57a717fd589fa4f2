"""Contract: basket holdings, the price cache and basket snapshots on every store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from trader.ports.portfolio import BasketSnapshot, Holding, HoldingKind, PriceQuote
from trader.ports.store import UnitOfWorkFactory

T = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def holding(basket: str, asset: str, ref: str, qty: str = "0.000123456789012345") -> Holding:
    return Holding(basket, asset, Decimal(qty), Decimal("10"), "USD", HoldingKind.VIRTUAL, T, ref)


async def test_holdings_are_stored_once_per_reference(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.portfolio.add_holdings([holding("a", "BTC", "2026-03-01"),
                                                 holding("a", "ETH", "2026-03-01"),
                                                 holding("b", "BTC", "pos-1")]) == 3
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.portfolio.add_holdings([holding("a", "BTC", "2026-03-01", "9"),
                                                 holding("a", "BTC", "2026-03-02")]) == 1
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.portfolio.holdings("a")
        assert [(h.asset, h.reference) for h in found] == [("BTC", "2026-03-01"), ("BTC", "2026-03-02"),
                                                          ("ETH", "2026-03-01")]
        assert found[0] == holding("a", "BTC", "2026-03-01")  # exact to 18 places, aware UTC
        assert found[0].kind is HoldingKind.VIRTUAL and found[0].acquired_at.tzinfo is not None
        assert len(await uow.portfolio.holdings()) == 4
        assert await uow.portfolio.remove_basket("a") == 3
        await uow.commit()
    async with uow_factory() as uow:
        assert [h.basket for h in await uow.portfolio.holdings()] == ["b"]


async def test_prices_are_replaced_per_asset_and_quote(uow_factory: UnitOfWorkFactory) -> None:
    first = PriceQuote("BTC", "USD", Decimal("60000.5"), "exchange:binance", T)
    async with uow_factory() as uow:
        await uow.portfolio.put_prices([first, PriceQuote("BTC", "AUD", Decimal("90000"), "coingecko", T)])
        await uow.commit()
    later = PriceQuote("BTC", "USD", Decimal("61000"), "coingecko", T + timedelta(minutes=5))
    async with uow_factory() as uow:
        assert (await uow.portfolio.prices("USD", ["BTC", "ETH"]))["BTC"] == first
        await uow.portfolio.put_prices([later])
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.portfolio.prices("USD", ["BTC", "ETH"]) == {"BTC": later}
        assert (await uow.portfolio.prices("AUD", ["BTC"]))["BTC"].price == Decimal("90000")


async def test_snapshots_are_one_per_basket_and_day(uow_factory: UnitOfWorkFactory) -> None:
    day = date(2026, 3, 1)
    async with uow_factory() as uow:
        for offset in (1, 0, 2):
            await uow.portfolio.put_snapshot(BasketSnapshot("a", day + timedelta(days=offset),
                                                            Decimal(100 + offset), Decimal(100), "USD"))
        await uow.portfolio.put_snapshot(BasketSnapshot("a", day, Decimal("99.5"), Decimal(100), "USD", 2))
        await uow.commit()
    async with uow_factory() as uow:
        shots = await uow.portfolio.snapshots("a")
        assert [s.day for s in shots] == [day, day + timedelta(days=1), day + timedelta(days=2)]
        assert shots[0] == BasketSnapshot("a", day, Decimal("99.5"), Decimal(100), "USD", 2)
        assert [s.day for s in await uow.portfolio.snapshots("a", day + timedelta(days=2))] == [
            day + timedelta(days=2)]
        assert await uow.portfolio.snapshots("b") == []
