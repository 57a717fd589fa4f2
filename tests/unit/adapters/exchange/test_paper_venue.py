"""PaperExchange specifics: restart survival, replay feeding, candles served, costs from config."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.contract.exchange.intents import BTC, intent, limit, market_buy, stop_sell
from tests.contract.exchange.venues import fake_like_btc_market
from trader.adapters.exchange.paper_venue import PaperChanges, PaperCosts, PaperExchange
from trader.config.sections import ExchangeConfig
from trader.core.backtest.markets import as_swap
from trader.core.domain.candles import CandleFrame
from trader.core.domain.enums import OrderPurpose, OrderStatus, OrderType, Side
from trader.core.domain.futures import FuturesTerms
from trader.core.errors import DataError, InsufficientFunds
from trader.core.sim.costs import FeeModel

T0 = datetime(2024, 1, 1, tzinfo=UTC)
HOUR = 3_600_000


def _paper(**kwargs: object) -> PaperExchange:
    return PaperExchange([fake_like_btc_market()], quote="USDT", balances={"USDT": Decimal(10_000)},
                         costs=PaperCosts(FeeModel.flat(Decimal("0.001"))), **kwargs)  # type: ignore[arg-type]


def _frame(closes: list[float], start_ms: int = 1_704_067_200_000) -> CandleFrame:
    rows = [[start_ms + i * HOUR, c, c * 1.01, c * 0.99, c, 1.0] for i, c in enumerate(closes)]
    return CandleFrame.from_arrays(rows)


async def test_restart_from_json_snapshot_keeps_orders_locks_and_fills() -> None:
    paper = _paper()
    paper.on_price(BTC, Decimal(50000), T0)
    buy = market_buy("r1", "0.01")
    await paper.place(buy)
    paper.on_price(BTC, Decimal(50000), T0 + timedelta(seconds=1))
    stop = await paper.place(stop_sell("r1", "0.01", "48000"))
    saved = json.loads(json.dumps(paper.snapshot()))  # what the store keeps: plain JSON

    restored = _paper()
    restored.restore(saved)
    assert await restored.order(BTC, buy.client_order_id) == await paper.order(BTC, buy.client_order_id)
    assert [o.client_order_id for o in await restored.open_orders(BTC)] == [stop.client_order_id]
    assert (await restored.balances()).balances == (await paper.balances()).balances
    assert await restored.fills_since(BTC, T0) == await paper.fills_since(BTC, T0)
    assert (await restored.place(buy)).status is OrderStatus.FILLED  # idempotent across the restart
    restored.on_price(BTC, Decimal(47000), T0 + timedelta(seconds=2))
    assert (await restored.order(BTC, stop.client_order_id)).status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert (await restored.balances()).balances["BTC"].total == 0


async def test_restore_rejects_unknown_version() -> None:
    with pytest.raises(DataError, match="version"):
        _paper().restore({"version": 99})


async def test_saver_is_called_with_each_order_change_and_gets_only_what_changed() -> None:
    saved: list[PaperChanges] = []

    async def saver(changes: PaperChanges) -> None:
        saved.append(changes)

    paper = _paper(saver=saver)
    paper.on_price(BTC, Decimal(50000), T0)
    order = await paper.place(limit("r2", Side.BUY, "0.01", "45000"))
    assert saved[-1].core["open"][0]["order"]["client_order_id"] == order.client_order_id
    assert saved[-1].finished == []
    await paper.cancel(BTC, order.client_order_id)
    assert len(saved) == 2
    assert saved[-1].core["open"] == []
    assert [f["order"]["status"] for f in saved[-1].finished] == ["cancelled"]
    assert (saved[-1].first_order, saved[-1].first_fill, saved[-1].fills) == (0, 0, [])
    await paper.persist()
    assert saved[-1].finished == []  # written once: the next save does not repeat it


async def test_paper_state_survives_restart_through_sqlite_store(sqlite_url: str) -> None:
    from trader.adapters.exchange.paper_store import PaperStateStore
    from trader.adapters.store import migrate
    from trader.adapters.store.sql.uow import Database
    from trader.runtime.clock import SimClock

    await migrate.upgrade_async(sqlite_url)
    database = Database.from_url(sqlite_url)
    try:
        store = PaperStateStore(database.uow, SimClock(T0))
        paper = _paper(saver=store.save)
        paper.on_price(BTC, Decimal(50000), T0)
        request = limit("r3", Side.BUY, "0.01", "45000")
        await paper.place(request)
        fresh = _paper()
        assert await store.load_into(fresh) is True
        assert [o.client_order_id for o in await fresh.open_orders(BTC)] == [request.client_order_id]
        assert (await fresh.balances()).balances["USDT"].free == Decimal(10_000) - Decimal("450.45")
    finally:
        await database.dispose()


async def test_load_into_without_saved_state_returns_false(sqlite_url: str) -> None:
    from trader.adapters.exchange.paper_store import PaperStateStore
    from trader.adapters.store import migrate
    from trader.adapters.store.sql.uow import Database
    from trader.runtime.clock import SimClock

    await migrate.upgrade_async(sqlite_url)
    database = Database.from_url(sqlite_url)
    try:
        assert await PaperStateStore(database.uow, SimClock(T0)).load_into(_paper()) is False
    finally:
        await database.dispose()


async def test_replay_fills_market_order_at_next_candle_open_and_serves_history() -> None:
    paper = _paper()
    frame = _frame([50000, 51000, 52000, 53000])

    def row(i: int) -> tuple[int, float, float, float, float, float]:
        return (int(frame.timestamp[i]), float(frame.open[i]), float(frame.high[i]), float(frame.low[i]),
                float(frame.close[i]), float(frame.volume[i]))

    paper.on_candle(BTC, "1h", row(0))  # what the replay driver does at each candle
    request = market_buy("r4", "0.01")
    await paper.place(request)
    fills = paper.on_candle(BTC, "1h", row(1))
    assert [(f.client_order_id, f.price) for f in fills] == [(request.client_order_id, Decimal("51000.0"))]
    history = await paper.candles(BTC, "1h")
    assert history.close.tolist() == [50000, 51000]
    assert len(await paper.candles(BTC, "2h")) == 1
    with pytest.raises(DataError):
        await paper.candles(BTC, "1m")


async def test_replay_rejects_out_of_order_candles() -> None:
    paper = _paper()
    paper.on_candle(BTC, "1h", (1_704_067_200_000, 1.0, 1.0, 1.0, 1.0, 1.0))
    with pytest.raises(DataError, match="not after"):
        paper.on_candle(BTC, "1h", (1_704_067_200_000, 1.0, 1.0, 1.0, 1.0, 1.0))


async def test_market_buy_with_slippage_fills_above_price() -> None:
    paper = PaperExchange([fake_like_btc_market()], quote="USDT", balances={"USDT": Decimal(10_000)},
                          costs=PaperCosts.from_config(ExchangeConfig(paper_slippage=Decimal("0.001"))))
    paper.on_price(BTC, Decimal(50000), T0)
    order = await paper.place(market_buy("r5", "0.01"))
    fills = paper.on_price(BTC, Decimal(50000), T0 + timedelta(seconds=1))
    assert fills[0].price == Decimal("50050.000")
    assert fills[0].fee == Decimal("0.01") * Decimal("50050") * Decimal("0.001")
    assert (await paper.order(BTC, order.client_order_id)).status is OrderStatus.FILLED  # type: ignore[union-attr]


async def test_market_buy_without_a_price_is_refused_and_over_balance_too() -> None:
    paper = _paper()
    with pytest.raises(Exception, match="no price"):
        await paper.place(market_buy("r6", "0.01"))
    paper.on_price(BTC, Decimal(50000), T0)
    with pytest.raises(InsufficientFunds):
        await paper.place(market_buy("r6", "0.2"))


async def test_oco_refused_where_market_has_no_oco() -> None:
    from tests.contract.exchange.intents import intent
    from trader.core.domain.enums import OrderType
    from trader.core.errors import InvalidOrder

    paper = _paper()
    paper.on_price(BTC, Decimal(50000), T0)
    with pytest.raises(InvalidOrder, match="OCO"):
        await paper.place(intent("r7", OrderPurpose.STOP, Side.SELL, OrderType.OCO, "0.01", price="52000",
                                 trigger="48000"))


async def test_oco_on_a_market_that_has_it_fills_one_leg_only() -> None:
    from dataclasses import replace as dc_replace

    from tests.contract.exchange.intents import intent
    from trader.core.domain.enums import OrderType
    from trader.core.domain.market import Capabilities

    spec = dc_replace(fake_like_btc_market(), capabilities=Capabilities(native_stop=True, oco=True))
    paper = PaperExchange([spec], quote="USDT", balances={"USDT": Decimal(10_000)},
                          costs=PaperCosts(FeeModel.flat(Decimal("0.001"))))
    paper.on_price(BTC, Decimal(50000), T0)
    await paper.place(market_buy("r8", "0.01"))
    paper.on_price(BTC, Decimal(50000), T0 + timedelta(seconds=1))
    oco = intent("r8", OrderPurpose.STOP, Side.SELL, OrderType.OCO, "0.01", price="52000", trigger="48000")
    placed = await paper.place(oco)
    assert placed.status is OrderStatus.OPEN
    assert (await paper.balances()).balances["BTC"].used == Decimal("0.01")  # locked once for both legs
    fills = paper.on_price(BTC, Decimal(52000), T0 + timedelta(seconds=2))
    assert [(f.client_order_id, f.price) for f in fills] == [(oco.client_order_id, Decimal(52000))]
    assert await paper.open_orders(BTC) == []


async def test_rematch_fills_a_stop_placed_after_the_fill_and_leaves_a_market_order_for_later() -> None:
    paper = _paper()
    start = 1_704_067_200_000
    paper.on_candle(BTC, "1h", (start, 50000.0, 50100.0, 50000.0, 50050.0, 1.0))
    buy = market_buy("r8", "0.01")
    await paper.place(buy)
    [entry] = paper.on_candle(BTC, "1h", (start + HOUR, 50000.0, 50200.0, 47500.0, 48000.0, 1.0))
    assert entry.price == Decimal("50000.0")  # at the open
    stop = await paper.place(stop_sell("r8", "0.01", "49000"))
    later = await paper.place(market_buy("r9", "0.01"))
    [stopped] = paper.rematch(BTC)  # the entry candle reaches the stop placed after the fill
    assert (stopped.client_order_id, stopped.price) == (stop.client_order_id, Decimal("49000"))
    assert (await paper.order(BTC, later.client_order_id)).status is OrderStatus.OPEN  # type: ignore[union-attr]
    [filled] = paper.on_candle(BTC, "1h", (start + 2 * HOUR, 48100.0, 48200.0, 48000.0, 48100.0, 1.0))
    assert (filled.client_order_id, filled.price) == (later.client_order_id, Decimal("48100.0"))


async def test_a_restored_snapshot_keeps_prices_fed_since_and_never_moves_time_back() -> None:
    paper = _paper()
    paper.on_price(BTC, Decimal(50000), T0)
    saved = json.loads(json.dumps(paper.snapshot()))
    resumed = _paper()
    resumed.on_candle(BTC, "1h", (1_704_070_800_000, 52000.0, 52100.0, 51900.0, 52050.0, 1.0))  # warm-up
    resumed.restore(saved)
    assert await resumed.last_price(BTC) == Decimal("52050.0")
    assert resumed.snapshot()["now"] == datetime(2024, 1, 1, 2, tzinfo=UTC).isoformat()


async def test_a_paper_short_on_a_perpetual_survives_a_restart_with_its_margin() -> None:
    swap = as_swap(fake_like_btc_market(), FuturesTerms(Decimal(4)))
    paper = PaperExchange([swap], quote="USDT", balances={"USDT": Decimal(10_000)},
                          costs=PaperCosts(FeeModel.flat(Decimal("0.001"))))
    paper.on_price(BTC, Decimal(50000), T0)
    await paper.place(intent("s1", OrderPurpose.ENTRY, Side.SELL, OrderType.MARKET, "0.1"))
    paper.on_price(BTC, Decimal(50000), T0 + timedelta(seconds=1))
    buy_back = intent("s1", OrderPurpose.STOP, Side.BUY, OrderType.STOP, "0.1", trigger="52000")
    stop = await paper.place(buy_back)
    before = await paper.balances()
    assert before.balances["USDT"].used == Decimal(1250)  # 5,000 notional at 4x
    assert before.exposure == Decimal(5000) and "BTC" not in before.balances  # contracts, not coins
    saved = json.loads(json.dumps(paper.snapshot()))

    restored = PaperExchange([swap], quote="USDT", balances={"USDT": Decimal(10_000)},
                             costs=PaperCosts(FeeModel.flat(Decimal("0.001"))))
    restored.restore(saved)
    assert await restored.balances() == before
    restored.on_price(BTC, Decimal(49000), T0 + timedelta(seconds=2))
    after = await restored.balances()
    assert after.equity == before.equity + Decimal(100)  # the short gains 0.1 * 1,000
    restored.on_price(BTC, Decimal(52500), T0 + timedelta(seconds=3))  # the stop buys it back
    assert (await restored.order(BTC, stop.client_order_id)).status is OrderStatus.FILLED  # type: ignore[union-attr]
    flat = await restored.balances()
    assert flat.balances["USDT"].used == 0 and flat.exposure == 0
    fees = Decimal(5000) * Decimal("0.001") + Decimal(5250) * Decimal("0.001")
    assert flat.equity == Decimal(10_000) - Decimal(250) - fees  # bought back at 52,500: 0.1 * 2,500 lost


async def test_a_market_buy_on_a_perpetual_needs_the_margin_of_what_it_opens_and_none_to_buy_back_a_short(
) -> None:
    swap = as_swap(fake_like_btc_market(), FuturesTerms(Decimal(2)))
    paper = PaperExchange([swap], quote="USDT", balances={"USDT": Decimal(10_000)},
                          costs=PaperCosts(FeeModel.flat(Decimal("0.001"))))
    paper.on_price(BTC, Decimal(50000), T0)
    with pytest.raises(InsufficientFunds):  # 0.5 BTC at 2x: 12,500 of margin
        await paper.place(market_buy("m1", "0.5"))
    await paper.place(intent("m2", OrderPurpose.ENTRY, Side.SELL, OrderType.MARKET, "0.39"))
    paper.on_price(BTC, Decimal(50000), T0 + timedelta(seconds=1))
    assert (await paper.balances()).balances["USDT"].free < Decimal(250)  # 9,750 of margin, fees
    # buying the short back frees its margin: no margin needed (a spot-like notional check refused it)
    back = await paper.place(intent("m2", OrderPurpose.EXIT, Side.BUY, OrderType.MARKET, "0.39"))
    paper.on_price(BTC, Decimal(50000), T0 + timedelta(seconds=2))
    assert (await paper.order(BTC, back.client_order_id)).status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert (await paper.balances()).exposure == 0


async def test_an_engine_watched_paper_short_liquidated_is_saved_and_reported_after_a_restart() -> None:
    swap = as_swap(fake_like_btc_market(), FuturesTerms(Decimal(4)))
    saves: list[PaperChanges] = []

    async def saver(changes: PaperChanges) -> None:
        saves.append(changes)

    def fresh(**kw: object) -> PaperExchange:
        return PaperExchange([swap], quote="USDT", balances={"USDT": Decimal(10_000)},
                             costs=PaperCosts(FeeModel.flat(Decimal(0))), **kw)  # type: ignore[arg-type]

    paper = fresh(saver=saver)
    paper.on_price(BTC, Decimal(50000), T0)
    await paper.place(intent("s1", OrderPurpose.ENTRY, Side.SELL, OrderType.MARKET, "0.1"))
    paper.on_price(BTC, Decimal(50000), T0 + timedelta(seconds=1))  # no stop rests: the engine watches
    paper.on_price(BTC, Decimal(65000), T0 + timedelta(seconds=2))  # past the liquidation price (~61,900)
    await paper.persist()  # what the feeders do after a feed (the liquidation made no fill)
    restored = fresh()
    restored.restore_saved(saves[-1].core, [f for c in saves for f in c.finished],
                           [f for c in saves for f in c.fills])
    assert (await restored.balances()).equity == Decimal(10_000) - Decimal(1250)  # the margin is gone
    paper_exit = intent("s1", OrderPurpose.EXIT, Side.BUY, OrderType.MARKET, "0.1")
    done = await restored.place(paper_exit)  # the engine's exit: reported at the bankruptcy price
    assert (done.status, done.average_price) == (OrderStatus.FILLED, Decimal(62500))
    assert (await restored.balances()).equity == Decimal(10_000) - Decimal(1250)  # booked once
