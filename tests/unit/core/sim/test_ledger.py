from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from trader.core.domain.enums import OrderPurpose, OrderStatus, OrderType, Side
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol
from trader.core.domain.market import MarketSpec
from trader.core.domain.orders import OrderRequest
from trader.core.errors import InsufficientFunds, InvalidOrder, OrderNotFound
from trader.core.sim.costs import FeeModel
from trader.core.sim.ledger import SimLedger
from trader.core.sim.matching import Bar

D = Decimal
BTC = Symbol("BTC/USDT")
NOW = datetime(2024, 1, 1, tzinfo=UTC)
MARKET = MarketSpec(BTC, "BTC", "USDT", D("0.001"), D("0.01"), min_amount=D("0.001"), min_cost=D(10))


def request(cid: str, side: Side, kind: OrderType, amount: str, price: str | None = None,
            trigger: str | None = None) -> OrderRequest:
    return OrderRequest(ClientOrderId(cid), PositionId("p1"), BTC, side, kind, OrderPurpose.ENTRY, D(amount),
                        D(price) if price else None, D(trigger) if trigger else None)


def ledger(usdt: str = "10000", btc: str = "0") -> SimLedger:
    return SimLedger({"USDT": D(usdt), "BTC": D(btc)}, [MARKET], fees=FeeModel.flat(D("0.001")))


def candle(o: str, h: str, low: str, c: str, ts: int = 3_600_000) -> Bar:
    return Bar(ts, D(o), D(h), D(low), D(c))


def test_market_buy_fills_on_next_bar_open_and_charges_fee_in_quote() -> None:
    sim = ledger()
    order = sim.place(request("a", Side.BUY, OrderType.MARKET, "0.1"), NOW)
    assert order.status is OrderStatus.OPEN
    fills = sim.on_bar(BTC, candle("20000", "20100", "19900", "20050"))
    assert [f.price for f in fills] == [D(20000)]
    bal = sim.balances()
    assert bal["BTC"].free == D("0.1")
    assert bal["USDT"].free == D(10000) - D(2000) - D("2.000")
    assert sim.order(ClientOrderId("a")).status is OrderStatus.FILLED  # type: ignore[union-attr]


def test_place_is_idempotent_on_client_id() -> None:
    sim = ledger()
    first = sim.place(request("a", Side.BUY, OrderType.MARKET, "0.1"), NOW)
    again = sim.place(request("a", Side.BUY, OrderType.MARKET, "0.1"), NOW)
    assert first == again and len(sim.open_orders()) == 1


def test_place_with_current_price_fills_immediately() -> None:
    sim = ledger()
    order = sim.place(request("a", Side.BUY, OrderType.MARKET, "0.1"), NOW, Bar.tick(0, D(30000)))
    assert order.status is OrderStatus.FILLED and order.average_price == D(30000)


def test_stop_locks_coins_so_second_sell_is_refused() -> None:
    sim = ledger(btc="1")
    sim.place(request("s", Side.SELL, OrderType.STOP, "1", trigger="19000"), NOW)
    assert sim.balances()["BTC"].used == D(1)
    with pytest.raises(InsufficientFunds):
        sim.place(request("t", Side.SELL, OrderType.TAKE_PROFIT, "1", trigger="22000"), NOW)


def test_cancel_releases_locked_coins() -> None:
    sim = ledger(btc="1")
    sim.place(request("s", Side.SELL, OrderType.STOP, "1", trigger="19000"), NOW)
    cancelled = sim.cancel(ClientOrderId("s"), NOW)
    assert cancelled.status is OrderStatus.CANCELLED
    assert sim.balances()["BTC"] .free == D(1) and sim.balances()["BTC"].used == 0


def test_cancel_unknown_order_raises() -> None:
    with pytest.raises(OrderNotFound):
        ledger().cancel(ClientOrderId("nope"), NOW)


def test_stop_gap_fills_at_open_and_credits_quote_minus_fee() -> None:
    sim = ledger(usdt="0", btc="1")
    sim.place(request("s", Side.SELL, OrderType.STOP, "1", trigger="19000"), NOW)
    assert sim.on_bar(BTC, candle("20000", "20100", "19500", "19900")) == []
    fills = sim.on_bar(BTC, candle("18000", "18500", "17900", "18100", 7_200_000))
    assert fills[0].price == D(18000)
    assert sim.balances()["USDT"].free == D(18000) - D("18.000")


def test_amount_off_precision_is_invalid() -> None:
    with pytest.raises(InvalidOrder, match="multiple"):
        ledger().place(request("a", Side.BUY, OrderType.LIMIT, "0.0015", price="20000"), NOW)


def test_order_below_min_cost_is_invalid() -> None:
    with pytest.raises(InvalidOrder, match="minimum"):
        ledger().place(request("a", Side.BUY, OrderType.LIMIT, "0.001", price="5000"), NOW)


def test_limit_buy_locks_cost_plus_fee() -> None:
    sim = ledger()
    sim.place(request("a", Side.BUY, OrderType.LIMIT, "0.1", price="20000"), NOW)
    assert sim.balances()["USDT"].used == D("2002.000")


def test_market_buy_without_funds_is_rejected_at_fill() -> None:
    sim = ledger(usdt="100")
    sim.place(request("a", Side.BUY, OrderType.MARKET, "0.1"), NOW)
    assert sim.on_bar(BTC, candle("20000", "20100", "19900", "20050")) == []
    assert sim.order(ClientOrderId("a")).status is OrderStatus.REJECTED  # type: ignore[union-attr]


def test_stop_limit_triggered_but_gapped_rests_as_limit() -> None:
    sim = ledger(btc="1")
    sim.place(request("s", Side.SELL, OrderType.STOP_LIMIT, "1", price="18900", trigger="19000"), NOW)
    assert sim.on_bar(BTC, candle("18500", "18800", "18400", "18600")) == []
    fills = sim.on_bar(BTC, candle("18600", "19000", "18600", "18950", 7_200_000))
    assert [f.price for f in fills] == [D(18900)]


def test_snapshot_values_holdings_at_prices() -> None:
    snap = ledger(usdt="1000", btc="0.5").snapshot("USDT", {BTC: D(20000)})
    assert snap.equity == D(11000) and snap.exposure == D(10000) and snap.free == D(1000)


def test_oco_locks_coins_once_and_fills_the_stop_leg_when_both_touched() -> None:
    from trader.core.sim.matching import oco_leg

    sim = ledger(usdt="0", btc="1")
    sim.place(request("o", Side.SELL, OrderType.OCO, "1", price="22000", trigger="19000"), NOW)
    assert sim.balances()["BTC"].used == D(1)
    fills = sim.on_bar(BTC, candle("20000", "22500", "18500", "20000"))
    assert [f.price for f in fills] == [D(19000)]
    assert oco_leg(Side.SELL, fills[0].price, D(22000)) is OrderPurpose.STOP


def test_oco_take_profit_leg_fills_at_target() -> None:
    from trader.core.sim.matching import oco_leg

    sim = ledger(usdt="0", btc="1")
    sim.place(request("o", Side.SELL, OrderType.OCO, "1", price="22000", trigger="19000"), NOW)
    fills = sim.on_bar(BTC, candle("21000", "22500", "20500", "22100"))
    assert [f.price for f in fills] == [D(22000)]
    assert oco_leg(Side.SELL, fills[0].price, D(22000)) is OrderPurpose.TAKE_PROFIT


def test_settle_fills_open_order_at_decided_price_once() -> None:
    from trader.core.sim.costs import Liquidity
    from trader.core.sim.matching import Match

    sim = ledger(usdt="0", btc="1")
    sim.place(request("s", Side.SELL, OrderType.STOP, "1", trigger="19000"), NOW)
    fill = sim.settle(ClientOrderId("s"), Match(D(19500), Liquidity.TAKER), NOW)
    assert fill is not None and fill.price == D(19500)
    assert sim.settle(ClientOrderId("s"), Match(D(19500), Liquidity.TAKER), NOW) is None
    assert sim.balances()["BTC"].total == 0
