"""Order intents for the exchange tests: real OrderRequests keyed by the deterministic client order id."""

from __future__ import annotations

from decimal import Decimal

from trader.core.domain.enums import OrderPurpose, OrderType, Side
from trader.core.domain.ids import PositionId, Symbol, client_order_id
from trader.core.domain.orders import OrderRequest

BTC = Symbol("BTC/USDT")


def intent(
    position: str,
    purpose: OrderPurpose,
    side: Side,
    kind: OrderType,
    amount: str,
    *,
    price: str | None = None,
    trigger: str | None = None,
    attempt: int = 0,
    symbol: Symbol = BTC,
) -> OrderRequest:
    """Return an OrderRequest whose client id is client_order_id(position, purpose, attempt)."""
    pid = PositionId(position)
    return OrderRequest(
        client_order_id=client_order_id(pid, purpose, attempt), position_id=pid, symbol=symbol, side=side,
        type=kind, purpose=purpose, amount=Decimal(amount),
        price=Decimal(price) if price is not None else None,
        trigger_price=Decimal(trigger) if trigger is not None else None,
    )


def market_buy(position: str, amount: str = "0.01") -> OrderRequest:
    """Return a market entry buy."""
    return intent(position, OrderPurpose.ENTRY, Side.BUY, OrderType.MARKET, amount)


def stop_sell(position: str, amount: str, trigger: str, attempt: int = 0) -> OrderRequest:
    """Return a native stop-market sell protecting a long."""
    return intent(position, OrderPurpose.STOP, Side.SELL, OrderType.STOP, amount, trigger=trigger,
                  attempt=attempt)


def limit(position: str, side: Side, amount: str, price: str, purpose: OrderPurpose = OrderPurpose.ENTRY,
          attempt: int = 0, symbol: Symbol = BTC) -> OrderRequest:
    """Return a resting limit order."""
    return intent(position, purpose, side, OrderType.LIMIT, amount, price=price, attempt=attempt,
                  symbol=symbol)
