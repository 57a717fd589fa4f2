"""In-memory state of the fake Binance-like venue: markets, balances, orders, trades, price path, ledger.

Thread-safe (one lock) because the HTTP server runs on its own thread while tests script prices.
Matching rules (deliberately simple and stated here): a market order fills at once at the current price;
a resting limit fills completely at its limit price when the current price reaches it; a stop
(STOP_LOSS / TAKE_PROFIT and their _LIMIT forms) triggers when the price crosses its stopPrice, then
fills at the current price (market forms) or rests as a limit (limit forms). Fees are charged in the
asset received, like Binance spot without BNB discounts. Set ``liquidity`` to make resting limit orders
fill at most that quantity per price update (partial fills).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from tests.fakes.fake_exchange.candles import CandleRows

D = Decimal
ZERO = Decimal(0)
SELL_STOP_TYPES = {"STOP_LOSS", "STOP_LOSS_LIMIT"}
TP_TYPES = {"TAKE_PROFIT", "TAKE_PROFIT_LIMIT"}
TRIGGER_TYPES = SELL_STOP_TYPES | TP_TYPES
ORDER_TYPES = ("LIMIT", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT",
               "LIMIT_MAKER")
OPEN_STATUSES = ("NEW", "PARTIALLY_FILLED")


class VenueReject(Exception):
    """A Binance-style rejection: HTTP status, error code and message."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status


@dataclass
class FakeMarket:
    """One spot market with Binance filters."""

    base: str
    quote: str
    tick_size: Decimal = Decimal("0.01")
    step_size: Decimal = Decimal("0.00001")
    min_qty: Decimal = Decimal("0.00001")
    min_notional: Decimal = Decimal("5")
    price: Decimal = Decimal("50000")
    candles: dict[str, CandleRows] = field(default_factory=dict)  # interval -> rows

    @property
    def symbol_id(self) -> str:
        return self.base + self.quote


@dataclass
class FakeOrder:
    """One order as the venue sees it."""

    order_id: int
    client_id: str
    symbol_id: str
    side: str  # BUY / SELL
    type: str
    qty: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    time_ms: int
    status: str = "NEW"
    executed: Decimal = ZERO
    cum_quote: Decimal = ZERO
    triggered: bool = False
    update_ms: int = 0
    order_list_id: int = -1
    locked_asset: str = ""
    locked: Decimal = ZERO


@dataclass
class FakeOrderList:
    """A Binance order list (OCO): two legs; when one executes the venue expires the other."""

    list_id: int
    client_id: str
    symbol_id: str
    legs: tuple[int, int]
    time_ms: int


@dataclass(frozen=True)
class FakeTrade:
    """One execution."""

    trade_id: int
    order_id: int
    client_id: str
    symbol_id: str
    side: str
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    time_ms: int
    is_maker: bool


@dataclass(frozen=True)
class LedgerEntry:
    """What the venue did: 'accepted', 'canceled', 'rejected' or 'fill'."""

    event: str
    order_id: int
    client_id: str
    detail: dict[str, str]


class FakeVenue:
    """State and matching of the fake venue; every public method is thread-safe."""

    def __init__(self, *, fee_rate: Decimal = Decimal("0.001"), now_ms: int = 1_700_000_000_000) -> None:
        self.lock = threading.RLock()
        self.fee_rate = fee_rate
        self.liquidity: Decimal | None = None  # max qty a resting limit fills per price update (partials)
        self.fee_in_quote = False  # charge a buy's fee in the quote currency (Kraken) instead of the base
        self.now_ms = now_ms
        self.markets: dict[str, FakeMarket] = {}
        self.free: dict[str, Decimal] = {}
        self.locked: dict[str, Decimal] = {}
        self.orders: dict[int, FakeOrder] = {}
        self.trades: list[FakeTrade] = []
        self.ledger: list[LedgerEntry] = []
        self.paths: dict[str, list[Decimal]] = {}
        self.order_lists: dict[int, FakeOrderList] = {}
        self._order_ids = itertools.count(1001)
        self._trade_ids = itertools.count(501)
        self._list_ids = itertools.count(71)
        self.price_hooks: list[Callable[[str], None]] = []  # other books on the same prices (futures)
        self.after_fill: list[Callable[[FakeOrder], None]] = []  # dialects' hooks (attached brackets)

    # ── set-up ────────────────────────────────────────────────────────────────
    def add_market(self, market: FakeMarket) -> None:
        """Register a market (keyed by its Binance id, e.g. BTCUSDT)."""
        with self.lock:
            self.markets[market.symbol_id] = market

    def deposit(self, asset: str, amount: Decimal | str) -> None:
        """Credit a free balance."""
        with self.lock:
            self.free[asset] = self.free.get(asset, D(0)) + D(amount)

    def market(self, symbol_id: str) -> FakeMarket:
        """Return a market or raise the Binance 'Invalid symbol' rejection."""
        market = self.markets.get(symbol_id)
        if market is None:
            raise VenueReject(-1121, "Invalid symbol.")
        return market

    # ── prices ────────────────────────────────────────────────────────────────
    def script_prices(self, symbol_id: str, prices: Iterable[Decimal | str | float]) -> None:
        """Queue a price path for ``advance`` to walk."""
        with self.lock:
            self.paths[symbol_id] = [D(str(p)) for p in prices]

    def advance(self, symbol_id: str, steps: int = 1) -> Decimal:
        """Move along the scripted path ``steps`` prices, matching after each; return the price."""
        with self.lock:
            for _ in range(steps):
                path = self.paths.get(symbol_id) or []
                if not path:
                    raise IndexError(f"price path for {symbol_id} is exhausted")
                self.set_price(symbol_id, path.pop(0))
            return self.market(symbol_id).price

    def set_price(self, symbol_id: str, price: Decimal | str | float) -> None:
        """Set the last price, advance the venue clock one second and match resting orders."""
        with self.lock:
            self.market(symbol_id).price = D(str(price))
            self.now_ms += 1000
            self._match(symbol_id)
            for hook in self.price_hooks:
                hook(symbol_id)

    # ── balances ──────────────────────────────────────────────────────────────
    def balances(self) -> list[tuple[str, Decimal, Decimal]]:
        """Return (asset, free, locked) rows."""
        with self.lock:
            assets = sorted(set(self.free) | set(self.locked))
            return [(a, self.free.get(a, D(0)), self.locked.get(a, D(0))) for a in assets]

    def _lock_funds(self, order: FakeOrder, market: FakeMarket) -> None:
        if order.side == "SELL":
            asset, need = market.base, order.qty
        else:
            asset = market.quote
            need = order.qty * (order.price or order.stop_price or market.price)
            if order.type == "MARKET":
                need = order.qty * market.price
        if self.free.get(asset, D(0)) < need:
            raise VenueReject(-2010, "Account has insufficient balance for requested action.")
        self.free[asset] -= need
        self.locked[asset] = self.locked.get(asset, D(0)) + need
        order.locked_asset, order.locked = asset, need

    def _release(self, order: FakeOrder) -> None:
        if order.locked:
            self.locked[order.locked_asset] -= order.locked
            self.free[order.locked_asset] += order.locked
            order.locked = D(0)

    # ── orders ────────────────────────────────────────────────────────────────
    def place(self, params: dict[str, str]) -> FakeOrder:
        """Validate and accept an order from Binance-style params, matching it at once if it can."""
        with self.lock:
            order = self._validated(params)
            market = self.markets[order.symbol_id]
            self._lock_funds(order, market)
            self.orders[order.order_id] = order
            self._record("accepted", order, type=order.type, side=order.side, qty=str(order.qty))
            self._match(order.symbol_id)
            return order

    def _validated(self, params: dict[str, str]) -> FakeOrder:
        market = self.market(params.get("symbol", ""))
        kind, side = params.get("type", ""), params.get("side", "")
        if kind not in ORDER_TYPES or side not in ("BUY", "SELL"):
            raise VenueReject(-1116, "Invalid orderType.")
        qty = self._decimal(params, "quantity", market.step_size, "LOT_SIZE")
        if qty is None or qty < market.min_qty:
            raise VenueReject(-1013, "Filter failure: LOT_SIZE")
        price = self._decimal(params, "price", market.tick_size, "PRICE_FILTER")
        stop = self._decimal(params, "stopPrice", market.tick_size, "PRICE_FILTER")
        if kind != "MARKET" and "LIMIT" in kind and price is None:
            raise VenueReject(-1102, "Mandatory parameter 'price' was not sent, or was empty/null.")
        if kind in TRIGGER_TYPES and stop is None:
            raise VenueReject(-1102, "Mandatory parameter 'stopPrice' was not sent.")
        if kind in TRIGGER_TYPES and _crossed_at(kind, side, stop, market.price):
            raise VenueReject(-2010, "Order would trigger immediately.")
        if qty * (price or stop or market.price) < market.min_notional:
            raise VenueReject(-1013, "Filter failure: NOTIONAL")
        client_id = params.get("newClientOrderId") or f"fake{next(self._trade_ids)}"
        if any(o.client_id == client_id and o.status in OPEN_STATUSES for o in self.orders.values()):
            raise VenueReject(-2010, "Duplicate order sent.")
        return FakeOrder(next(self._order_ids), client_id, market.symbol_id, side, kind, qty, price, stop,
                         self.now_ms, update_ms=self.now_ms)

    @staticmethod
    def _decimal(params: dict[str, str], key: str, step: Decimal, filt: str) -> Decimal | None:
        raw = params.get(key)
        if raw is None:
            return None
        value = D(raw)
        if -value.as_tuple().exponent > 8:  # type: ignore[operator]
            raise VenueReject(-1111, "Precision is over the maximum defined for this asset.")
        if value <= 0 or (value / step) != (value / step).to_integral_value(rounding=ROUND_FLOOR):
            raise VenueReject(-1013, f"Filter failure: {filt}")
        return value

    def find(self, symbol_id: str, order_id: str | None, client_id: str | None) -> FakeOrder:
        """Find an order by orderId or origClientOrderId (latest wins), else -2013."""
        with self.lock:
            for order in sorted(self.orders.values(), key=lambda o: -o.order_id):
                if order.symbol_id != symbol_id:
                    continue
                by_id = order_id and str(order.order_id) == order_id
                if by_id or (client_id and order.client_id == client_id):
                    return order
            raise VenueReject(-2013, "Order does not exist.")

    def cancel(self, symbol_id: str, order_id: str | None, client_id: str | None) -> FakeOrder:
        """Cancel an open order, else -2011 Unknown order."""
        with self.lock:
            try:
                order = self.find(symbol_id, order_id, client_id)
            except VenueReject as exc:
                raise VenueReject(-2011, "Unknown order sent.") from exc
            if order.status not in OPEN_STATUSES:
                raise VenueReject(-2011, "Unknown order sent.")
            siblings = self._list_legs(order)  # cancelling one leg of an OCO cancels the whole list
            for leg in siblings or [order]:
                if leg.status in OPEN_STATUSES:
                    self._release(leg)
                    leg.status, leg.update_ms = "CANCELED", self.now_ms
                    self._record("canceled", leg)
            return order

    def open_orders(self, symbol_id: str | None) -> list[FakeOrder]:
        """Return open orders, optionally for one market."""
        with self.lock:
            return [o for o in self.orders.values()
                    if o.status in OPEN_STATUSES and symbol_id in (None, o.symbol_id)]

    def my_trades(self, symbol_id: str, start_ms: int = 0) -> list[FakeTrade]:
        """Return executions on a market at or after ``start_ms``."""
        with self.lock:
            return [t for t in self.trades if t.symbol_id == symbol_id and t.time_ms >= start_ms]

    # ── matching ──────────────────────────────────────────────────────────────
    def _match(self, symbol_id: str) -> None:
        market = self.markets[symbol_id]
        last = market.price
        for order in sorted(self.open_orders(symbol_id), key=lambda o: o.order_id):
            if order.status not in OPEN_STATUSES:  # its OCO sibling executed earlier in this pass
                continue
            if order.type in TRIGGER_TYPES and not order.triggered:
                if not _crossed(order, last):
                    continue
                order.triggered = True
                if not order.type.endswith("_LIMIT"):
                    self._fill(order, market, last, maker=False)
                    continue
            if order.type == "MARKET":
                self._fill(order, market, last, maker=False)
            elif order.price is not None and _limit_reached(order.side, order.price, last):
                self._fill(order, market, order.price, maker=True)

    def _fill(self, order: FakeOrder, market: FakeMarket, price: Decimal, *, maker: bool) -> None:
        for leg in self._list_legs(order):  # one OCO leg executes: the venue expires the other at once
            if leg is not order and leg.status in OPEN_STATUSES:
                self._release(leg)
                leg.status, leg.update_ms = "EXPIRED", self.now_ms
                self._record("expired", leg)
        remaining = order.qty - order.executed
        qty = remaining if not maker or self.liquidity is None else min(remaining, self.liquidity)
        quote_amt = qty * price
        if qty == remaining:
            self._release(order)
        else:  # partial fill: release the part of the lock that this fill uses
            part = order.locked * qty / remaining
            order.locked -= part
            self.locked[order.locked_asset] -= part
            self.free[order.locked_asset] += part
        if order.side == "BUY" and self.fee_in_quote:  # Kraken: fees in the quote currency by default
            commission, asset = quote_amt * self.fee_rate, market.quote
            self.free[market.quote] = self.free.get(market.quote, D(0)) - quote_amt - commission
            self.free[market.base] = self.free.get(market.base, D(0)) + qty
        elif order.side == "BUY":
            commission, asset = qty * self.fee_rate, market.base
            self.free[market.quote] = self.free.get(market.quote, D(0)) - quote_amt
            self.free[market.base] = self.free.get(market.base, D(0)) + qty - commission
        else:
            commission, asset = quote_amt * self.fee_rate, market.quote
            self.free[market.base] = self.free.get(market.base, D(0)) - qty
            self.free[market.quote] = self.free.get(market.quote, D(0)) + quote_amt - commission
        trade = FakeTrade(next(self._trade_ids), order.order_id, order.client_id, order.symbol_id, order.side,
                          price, qty, commission, asset, self.now_ms, maker)
        self.trades.append(trade)
        order.executed += qty
        order.cum_quote += quote_amt
        order.status = "FILLED" if order.executed == order.qty else "PARTIALLY_FILLED"
        order.update_ms = self.now_ms
        self._record("fill", order, trade_id=str(trade.trade_id), price=str(price), qty=str(qty))
        for hook in self.after_fill:
            hook(order)

    def _record(self, event: str, order: FakeOrder, **detail: str) -> None:
        self.ledger.append(LedgerEntry(event, order.order_id, order.client_id, detail))

    # ── inspection for tests ──────────────────────────────────────────────────
    def accepted(self) -> list[LedgerEntry]:
        """Return every accepted order, in order."""
        with self.lock:
            return [e for e in self.ledger if e.event == "accepted"]

    def fills(self) -> list[LedgerEntry]:
        """Return every fill, in order."""
        with self.lock:
            return [e for e in self.ledger if e.event == "fill"]

    def order_count(self, client_id: str) -> int:
        """Return how many orders the venue accepted with this client id."""
        return sum(1 for e in self.accepted() if e.client_id == client_id)

    # ── order lists (OCO) ─────────────────────────────────────────────────────
    def place_oco(self, params: dict[str, str]) -> FakeOrderList:
        """Accept a Binance ``orderList/oco``: an above and a below leg sharing one lock of the funds.

        As on Binance: a SELL list needs above price > last > below stop; LIMIT_MAKER must not take;
        a listClientOrderId still open is a duplicate.
        """
        with self.lock:
            list_cid = params.get("listClientOrderId") or f"list{next(self._list_ids)}"
            if any(lst.client_id == list_cid and self._list_open(lst) for lst in self.order_lists.values()):
                raise VenueReject(-2010, "Duplicate order sent.")
            legs = []
            for pos in ("above", "below"):
                leg = {"symbol": params.get("symbol", ""), "side": params.get("side", ""),
                       "quantity": params.get("quantity", ""), "type": params.get(f"{pos}Type", ""),
                       "newClientOrderId": params.get(f"{pos}ClientOrderId", "")}
                for key, name in (("price", "Price"), ("stopPrice", "StopPrice")):
                    if params.get(pos + name) is not None:
                        leg[key] = params[pos + name]
                legs.append(self._validated(leg))
            above, below = legs
            last = self.market(above.symbol_id).price
            if above.type == "LIMIT_MAKER" and above.price is not None and above.price <= last:
                raise VenueReject(-2010, "Order would immediately match and take.")
            floor = below.stop_price or below.price or last
            if not (above.price or above.stop_price or D(0)) > last > floor:
                raise VenueReject(-1165, "A limit order in a sell OCO must be above the market price.")
            if above.client_id == below.client_id:
                raise VenueReject(-1014, "Unsupported order combination.")
            self._lock_funds(above, self.markets[above.symbol_id])  # one lock: both legs sell the same coins
            order_list = FakeOrderList(next(self._list_ids), list_cid, above.symbol_id,
                                       (above.order_id, below.order_id), self.now_ms)
            for leg_order in (above, below):
                leg_order.order_list_id = order_list.list_id
                self.orders[leg_order.order_id] = leg_order
                self._record("accepted", leg_order, type=leg_order.type, side=leg_order.side,
                             qty=str(leg_order.qty), list=list_cid)
            self.order_lists[order_list.list_id] = order_list
            self.ledger.append(LedgerEntry("list_accepted", order_list.list_id, list_cid, {}))
            self._match(above.symbol_id)
            return order_list

    def find_list(self, list_id: str | None, client_id: str | None) -> FakeOrderList:
        """Find an order list by orderListId or listClientOrderId (latest wins), else -2011."""
        with self.lock:
            for lst in sorted(self.order_lists.values(), key=lambda x: -x.list_id):
                if (list_id and str(lst.list_id) == list_id) or (client_id and lst.client_id == client_id):
                    return lst
            raise VenueReject(-2011, "Order list does not exist.")

    def cancel_list(self, list_id: str | None, client_id: str | None) -> FakeOrderList:
        """Cancel every open leg of a list, else -2011 when it is unknown or already done."""
        with self.lock:
            order_list = self.find_list(list_id, client_id)
            if not self._list_open(order_list):
                raise VenueReject(-2011, "Unknown order list sent.")
            self.cancel(order_list.symbol_id, str(order_list.legs[0]), None)
            return order_list

    def open_lists(self, symbol_id: str | None = None) -> list[FakeOrderList]:
        """Return order lists with a leg still open."""
        with self.lock:
            return [lst for lst in self.order_lists.values()
                    if self._list_open(lst) and symbol_id in (None, lst.symbol_id)]

    def list_legs(self, order_list: FakeOrderList) -> list[FakeOrder]:
        """Return the two legs of a list."""
        with self.lock:
            return [self.orders[i] for i in order_list.legs]

    def _list_open(self, order_list: FakeOrderList) -> bool:
        return any(self.orders[i].status in OPEN_STATUSES for i in order_list.legs)

    def _list_legs(self, order: FakeOrder) -> list[FakeOrder]:
        order_list = self.order_lists.get(order.order_list_id)
        return self.list_legs(order_list) if order_list is not None else []

    def lists_accepted(self) -> list[LedgerEntry]:
        """Return every accepted order list (OCO), in order."""
        with self.lock:
            return [e for e in self.ledger if e.event == "list_accepted"]

    def all_orders(self) -> Sequence[FakeOrder]:
        """Return every order ever accepted."""
        with self.lock:
            return list(self.orders.values())


def _crossed(order: FakeOrder, last: Decimal) -> bool:
    return _crossed_at(order.type, order.side, order.stop_price, last)


def _crossed_at(kind: str, side: str, stop: Decimal | None, last: Decimal) -> bool:
    assert stop is not None
    falling = (kind in SELL_STOP_TYPES) == (side == "SELL")
    return last <= stop if falling else last >= stop


def _limit_reached(side: str, limit: Decimal, last: Decimal) -> bool:
    return last <= limit if side == "BUY" else last >= limit
