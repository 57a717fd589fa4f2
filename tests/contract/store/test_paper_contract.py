"""Contract: the paper account saved incrementally (core + one document per fill and finished order)
restores exactly, and a save's size does not grow with the account's history."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tests.contract.exchange.intents import BTC, intent, limit, market_buy
from tests.contract.exchange.venues import fake_like_btc_market
from trader.adapters.exchange.paper_store import PaperStateStore
from trader.adapters.exchange.paper_venue import PaperChanges, PaperCosts, PaperExchange
from trader.core.domain.enums import OrderPurpose, OrderType, Side
from trader.core.domain.orders import OrderRequest
from trader.core.sim.costs import FeeModel
from trader.ports.store import UnitOfWorkFactory
from trader.runtime.clock import SimClock

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def paper(saver: Any = None) -> PaperExchange:
    return PaperExchange([fake_like_btc_market()], quote="USDT", balances={"USDT": Decimal(100_000)},
                         costs=PaperCosts(FeeModel.flat(Decimal("0.001"))), saver=saver)


def market_sell(n: int) -> OrderRequest:
    return intent(f"p{n}", OrderPurpose.EXIT, Side.SELL, OrderType.MARKET, "0.01")


async def round_trips(account: PaperExchange, start: int, count: int) -> None:
    for n in range(start, start + count):
        at = T0 + timedelta(minutes=3 * n)
        account.on_price(BTC, Decimal(50_000 + n), at)
        await account.place(market_buy(f"p{n}", "0.01"))
        account.on_price(BTC, Decimal(50_000 + n), at + timedelta(minutes=1))  # the buy fills
        await account.place(market_sell(n))
        account.on_price(BTC, Decimal(50_000 + n), at + timedelta(minutes=2))  # the sell fills
        await account.persist()


async def test_incremental_saves_restore_exactly_and_stay_small(uow_factory: UnitOfWorkFactory) -> None:
    store = PaperStateStore(uow_factory, SimClock(T0))
    sizes: list[int] = []

    async def saver(changes: PaperChanges) -> None:
        sizes.append(len(json.dumps([changes.core, changes.fills, changes.finished])))
        await store.save(changes)

    account = paper(saver)
    await round_trips(account, 0, 5)
    early = max(sizes[-6:])
    await round_trips(account, 5, 60)  # 130 fills in all
    assert max(sizes[-6:]) <= early + 64  # the same work costs the same, whatever came before
    resting = await account.place(limit("rest", Side.BUY, "0.01", "40000"))

    restored = paper()
    assert await store.load_into(restored) is True
    since = T0 - timedelta(days=1)
    assert await restored.fills_since(BTC, since) == await account.fills_since(BTC, since)
    assert len(await restored.fills_since(BTC, since)) == 130
    assert (await restored.balances()).balances == (await account.balances()).balances
    sold = market_sell(3).client_order_id
    assert await restored.order(BTC, sold) == await account.order(BTC, sold)
    assert [o.client_order_id for o in await restored.open_orders(BTC)] == [resting.client_order_id]

    # The restored account goes on numbering where it stopped: nothing is overwritten or lost.
    restored_store = PaperStateStore(uow_factory, SimClock(T0))
    again = paper(restored_store.save)
    assert await restored_store.load_into(again) is True
    await round_trips(again, 65, 2)
    final = paper()
    assert await store.load_into(final) is True
    assert len(await final.fills_since(BTC, since)) == 134


async def test_a_whole_snapshot_from_before_is_loaded_and_then_saved_incrementally(
        uow_factory: UnitOfWorkFactory) -> None:
    old = paper()
    await round_trips(old, 0, 3)
    async with uow_factory() as uow:  # what the previous version stored: one document, version 1
        await uow.paper_account.save("paper:default", json.loads(json.dumps(old.snapshot())), [], [], T0)
        await uow.commit()
    store = PaperStateStore(uow_factory, SimClock(T0))
    account = paper(store.save)
    assert await store.load_into(account) is True
    await round_trips(account, 3, 1)
    reloaded = paper()
    assert await store.load_into(reloaded) is True
    since = T0 - timedelta(days=1)
    assert len(await reloaded.fills_since(BTC, since)) == 8
    bought = market_buy("p0").client_order_id
    assert await reloaded.order(BTC, bought) == await old.order(BTC, bought)


async def test_history_is_per_account_in_numbering_order(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.paper_account.save("a", {"core": "a"}, [(2, {"f": 2}), (1, {"f": 1})], [(10, {"o": 10})],
                                     T0)
        await uow.paper_account.save("a_x", {"core": "a_x"}, [(1, {"f": "x"})], [], T0)  # a look-alike key
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.paper_account.core("a") == {"core": "a"}
        assert await uow.paper_account.history("a") == ([{"o": 10}], [{"f": 1}, {"f": 2}])
        assert await uow.paper_account.core("b") is None
        assert await uow.paper_account.history("b") == ([], [])
