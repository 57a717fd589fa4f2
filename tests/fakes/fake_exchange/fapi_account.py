"""The USDⓈ-M futures account of the fake venue: wallet, one-way positions, orders and algo orders.

Rules (deliberately simple, stated here): one USDT wallet; one position per symbol in one-way mode
(signed quantity, average entry price, isolated margin = notional / leverage at entry); a MARKET order
fills at once at the last price, a LIMIT order rests and fills at its price when the last price
reaches it; taker and maker fee ``fee_rate`` on the notional, paid from the wallet. Conditional
orders (STOP_MARKET, TAKE_PROFIT_MARKET) live in a separate algo book, as Binance's algo API has them
since late 2025: when the last price crosses the trigger the algo order becomes FINISHED (with the
order's executedQty and avgPrice) and a MARKET order is placed, with the algo's client id unless
``child_keeps_client_id`` is off (``actualOrderId`` links them); a reduce-only order that
would not reduce the position, or a closePosition order on a flat position, expires. Funding is
charged at the last price (longs pay a positive rate) and recorded as FUNDING_FEE income, either at
once (``charge_funding``) or at a funding time scheduled with ``schedule_funding``, on the first price
update at or after it. Prices come from the shared FakeVenue; every method holds its lock.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from tests.fakes.fake_exchange.fapi_app import BRACKETS, FuturesBook
from tests.fakes.fake_exchange.venue import FakeVenue, VenueReject

D = Decimal
ZERO = D(0)
STEP = D("0.001")
MIN_NOTIONAL = D(100)
OPEN = ("NEW", "PARTIALLY_FILLED")
TAKER_FEE = D("0.0004")
ALGO_TYPES = ("STOP_MARKET", "TAKE_PROFIT_MARKET")


@dataclass
class FPosition:
    """A one-way position: signed quantity, average entry, isolated margin."""

    qty: Decimal = ZERO
    entry: Decimal = ZERO
    margin: Decimal = ZERO


@dataclass
class FOrder:
    """A regular futures order."""

    order_id: int
    client_id: str
    symbol_id: str
    side: str
    type: str
    qty: Decimal
    price: Decimal | None
    reduce_only: bool
    time_ms: int
    status: str = "NEW"
    executed: Decimal = ZERO
    cum_quote: Decimal = ZERO
    update_ms: int = 0

    @property
    def avg_price(self) -> Decimal:
        return self.cum_quote / self.executed if self.executed else ZERO


@dataclass
class FAlgo:
    """A conditional (algo) order resting until its trigger."""

    algo_id: int
    client_id: str
    symbol_id: str
    side: str
    type: str
    qty: Decimal
    trigger: Decimal
    reduce_only: bool
    close_position: bool
    time_ms: int
    status: str = "NEW"  # NEW, CANCELED, FINISHED (triggered)
    actual_order_id: int | None = None
    update_ms: int = 0


@dataclass(frozen=True)
class FTrade:
    """One futures execution."""

    trade_id: int
    order_id: int
    symbol_id: str
    side: str
    price: Decimal
    qty: Decimal
    realized: Decimal
    commission: Decimal
    time_ms: int
    maker: bool


class FuturesAccount:
    """The futures wallet, positions and order books over the venue's prices (see the module doc)."""

    def __init__(self, venue: FakeVenue, book: FuturesBook, *, fee_rate: Decimal = TAKER_FEE) -> None:
        self.venue = venue
        self.book = book
        self.fee_rate = fee_rate
        self.wallet = ZERO
        self.positions: dict[str, FPosition] = {}
        self.orders: dict[int, FOrder] = {}
        self.algos: dict[int, FAlgo] = {}
        self.trades: list[FTrade] = []
        # Whether a triggered algo order's market order carries the algo's client id (Binance does not
        # document it): tests run both ways.
        self.child_keeps_client_id = True
        self.scheduled: list[tuple[int, str, Decimal]] = []  # (funding time ms, symbol id, rate)
        self.events: list[str] = []  # "accepted e1", "algo s1", "fill e1", "triggered s1", "canceled s1"
        self._ids = itertools.count(8_000_001)
        self._algo_ids = itertools.count(3_000)
        self._trade_ids = itertools.count(70_001)
        venue.price_hooks.append(self.on_price)

    # ── set-up and inspection ──────────────────────────────────────────────────
    def deposit(self, amount: Decimal | str) -> None:
        """Credit the futures wallet (USDT)."""
        with self.venue.lock:
            self.wallet += D(amount)

    def position(self, symbol_id: str) -> FPosition:
        """Return the position of a symbol (flat when never traded)."""
        return self.positions.setdefault(symbol_id, FPosition())

    def leverage(self, symbol_id: str) -> int:
        """Return the account's leverage on a symbol (20x until set, as Binance starts accounts)."""
        return self.book.leverage.get(symbol_id, 20)

    def open_algos(self, symbol_id: str | None = None) -> list[FAlgo]:
        """Return the resting conditional orders."""
        with self.venue.lock:
            return [a for a in self.algos.values() if a.status == "NEW" and symbol_id in (None, a.symbol_id)]

    def open_orders(self, symbol_id: str | None = None) -> list[FOrder]:
        """Return the resting regular orders."""
        with self.venue.lock:
            return [o for o in self.orders.values() if o.status in OPEN and symbol_id in (None, o.symbol_id)]

    def used_margin(self) -> Decimal:
        """Return the margin the open positions hold."""
        return sum((p.margin for p in self.positions.values()), ZERO)

    def unrealized(self, symbol_id: str) -> Decimal:
        """Return the unrealised PnL of a symbol's position at the last price."""
        pos = self.position(symbol_id)
        return pos.qty * (self.venue.market(symbol_id).price - pos.entry)

    def liquidation_price(self, symbol_id: str) -> Decimal:
        """Return the isolated liquidation price (0 when flat), first maintenance bracket."""
        pos = self.position(symbol_id)
        if pos.qty == 0:
            return ZERO
        mmr, qty = D(BRACKETS[0][3]), abs(pos.qty)
        if pos.qty > 0:
            return max(ZERO, (qty * pos.entry - pos.margin) / (qty * (1 - mmr)))
        return (pos.margin + qty * pos.entry) / (qty * (1 + mmr))

    def available(self) -> Decimal:
        """Return the wallet less the margin in use (unrealised losses reduce it too)."""
        losses = sum((min(ZERO, self.unrealized(s)) for s in self.positions), ZERO)
        return self.wallet - self.used_margin() + losses

    # ── orders ──────────────────────────────────────────────────────────────────
    def place(self, params: dict[str, str]) -> FOrder:
        """Accept a MARKET or LIMIT order (POST /fapi/v1/order) and match it at once when it can."""
        with self.venue.lock:
            market = self.venue.market(params.get("symbol", ""))
            kind, side = params.get("type", ""), params.get("side", "")
            if kind not in ("MARKET", "LIMIT") or side not in ("BUY", "SELL"):
                raise VenueReject(-4120, "Order type not supported for this endpoint. Please use the Algo "
                                         "Order API endpoints instead.")
            qty = _qty(params.get("quantity"))
            price = D(params["price"]) if kind == "LIMIT" and params.get("price") else None
            if kind == "LIMIT" and price is None:
                raise VenueReject(-1102, "Mandatory parameter 'price' was not sent, or was empty/null.")
            reduce = params.get("reduceOnly", "false").lower() == "true"
            cid = params.get("newClientOrderId") or f"fut{next(self._ids)}"
            if any(o.client_id == cid and o.status in OPEN for o in self.orders.values()):
                raise VenueReject(-4116, "ClientOrderId is duplicated.")
            if not reduce and qty * (price or market.price) < MIN_NOTIONAL:
                raise VenueReject(-4164, f"Order's notional must be no smaller than {MIN_NOTIONAL} (unless "
                                         "you choose reduce only).")
            if reduce and not self._reduces(market.symbol_id, side, qty):
                raise VenueReject(-2022, "ReduceOnly Order is rejected.")
            if not reduce:
                need = qty * (price or market.price) / self.leverage(market.symbol_id)
                if need > self.available():
                    raise VenueReject(-2019, "Margin is insufficient.")
            order = FOrder(next(self._ids), cid, market.symbol_id, side, kind, qty, price, reduce,
                           self.venue.now_ms, update_ms=self.venue.now_ms)
            self.orders[order.order_id] = order
            self.events.append(f"accepted {cid}")
            self._match(market.symbol_id)
            return order

    def place_algo(self, params: dict[str, str]) -> FAlgo:
        """Accept a conditional order (POST /fapi/v1/algoOrder, algoType CONDITIONAL)."""
        with self.venue.lock:
            market = self.venue.market(params.get("symbol", ""))
            kind, side = params.get("type", params.get("orderType", "")), params.get("side", "")
            conditional = params.get("algoType") == "CONDITIONAL"
            if not conditional or kind not in ALGO_TYPES or side not in ("BUY", "SELL"):
                raise VenueReject(-1116, "Invalid orderType.")
            close = params.get("closePosition", "false").lower() == "true"
            qty = ZERO if close else _qty(params.get("quantity"))
            trigger = D(params.get("triggerPrice") or "0")
            if trigger <= 0 or trigger % market.tick_size:
                raise VenueReject(-1013, "Filter failure: PRICE_FILTER")
            if _crossed(kind, side, trigger, market.price):
                raise VenueReject(-2021, "Order would immediately trigger.")
            cid = params.get("clientAlgoId") or f"algo{next(self._algo_ids)}"
            if any(a.client_id == cid and a.status == "NEW" for a in self.algos.values()):
                raise VenueReject(-4116, "ClientOrderId is duplicated.")
            reduce = close or params.get("reduceOnly", "false").lower() == "true"
            algo = FAlgo(next(self._algo_ids), cid, market.symbol_id, side, kind, qty, trigger, reduce, close,
                         self.venue.now_ms, update_ms=self.venue.now_ms)
            self.algos[algo.algo_id] = algo
            self.events.append(f"algo {cid}")
            return algo

    def find(self, symbol_id: str, order_id: str | None, client_id: str | None) -> FOrder:
        """Find a regular order by orderId or origClientOrderId (latest wins), else -2013."""
        with self.venue.lock:
            for order in sorted(self.orders.values(), key=lambda o: -o.order_id):
                by_id = order_id and str(order.order_id) == order_id
                if order.symbol_id == symbol_id and (by_id or (client_id and order.client_id == client_id)):
                    return order
            raise VenueReject(-2013, "Order does not exist.")

    def find_algo(self, algo_id: str | None, client_id: str | None) -> FAlgo:
        """Find an algo order by algoId or clientAlgoId (latest wins), else -2013."""
        with self.venue.lock:
            for algo in sorted(self.algos.values(), key=lambda a: -a.algo_id):
                if (algo_id and str(algo.algo_id) == algo_id) or (client_id and algo.client_id == client_id):
                    return algo
            raise VenueReject(-2013, "Order does not exist.")

    def cancel(self, symbol_id: str, order_id: str | None, client_id: str | None) -> FOrder:
        """Cancel a resting regular order, else -2011."""
        with self.venue.lock:
            try:
                order = self.find(symbol_id, order_id, client_id)
            except VenueReject as exc:
                raise VenueReject(-2011, "Unknown order sent.") from exc
            if order.status not in OPEN:
                raise VenueReject(-2011, "Unknown order sent.")
            order.status, order.update_ms = "CANCELED", self.venue.now_ms
            self.events.append(f"canceled {order.client_id}")
            return order

    def cancel_algo(self, algo_id: str | None, client_id: str | None) -> FAlgo:
        """Cancel a resting algo order, else -2011."""
        with self.venue.lock:
            try:
                algo = self.find_algo(algo_id, client_id)
            except VenueReject as exc:
                raise VenueReject(-2011, "Unknown order sent.") from exc
            if algo.status != "NEW":
                raise VenueReject(-2011, "Unknown order sent.")
            algo.status, algo.update_ms = "CANCELED", self.venue.now_ms
            self.events.append(f"canceled {algo.client_id}")
            return algo

    def user_trades(self, symbol_id: str, start_ms: int, end_ms: int | None) -> list[FTrade]:
        """Return executions on a symbol in [start, end]."""
        with self.venue.lock:
            return [t for t in self.trades if t.symbol_id == symbol_id and t.time_ms >= start_ms
                    and (end_ms is None or t.time_ms <= end_ms)]

    # ── funding ─────────────────────────────────────────────────────────────────
    def charge_funding(self, symbol_id: str, rate: Decimal | str) -> Decimal:
        """Charge one funding interval at the last price; return what the account paid (negative: got)."""
        with self.venue.lock:
            pos = self.position(symbol_id)
            paid = pos.qty * self.venue.market(symbol_id).price * D(rate)
            self.wallet -= paid
            self.book.funding_rates.setdefault(symbol_id, []).append((self.venue.now_ms, D(rate)))
            if pos.qty:
                self.book.pay_funding(symbol_id, -paid, self.venue.now_ms)
            return paid

    def schedule_funding(self, symbol_id: str, time_ms: int, rate: Decimal | str) -> None:
        """Charge ``rate`` on the position held at ``time_ms`` (on the first price update from then)."""
        with self.venue.lock:
            self.scheduled.append((time_ms, symbol_id, D(rate)))

    # ── matching ────────────────────────────────────────────────────────────────
    def on_price(self, symbol_id: str) -> None:
        """Charge funding that fell due, trigger the algo orders the new price crossed, match the rest."""
        for due in sorted(d for d in self.scheduled if d[0] <= self.venue.now_ms and d[1] == symbol_id):
            self.scheduled.remove(due)
            self.charge_funding(symbol_id, due[2])
        last = self.venue.market(symbol_id).price
        for algo in sorted(self.open_algos(symbol_id), key=lambda a: a.algo_id):
            if not _crossed(algo.type, algo.side, algo.trigger, last):
                continue
            pos = self.position(symbol_id)
            qty = abs(pos.qty) if algo.close_position else algo.qty
            order_id = next(self._ids)
            cid = algo.client_id if self.child_keeps_client_id else f"autoclose-{order_id}"
            order = FOrder(order_id, cid, symbol_id, algo.side, "MARKET", qty, None,
                           algo.reduce_only, self.venue.now_ms, update_ms=self.venue.now_ms)
            self.orders[order.order_id] = order
            algo.status, algo.actual_order_id, algo.update_ms = "FINISHED", order.order_id, self.venue.now_ms
            self.events.append(f"triggered {algo.client_id}")
            if qty <= 0 or (order.reduce_only and not self._reduces(symbol_id, order.side, qty)):
                order.status = "EXPIRED"  # nothing left to reduce: a reduce-only order never opens
        self._match(symbol_id)

    def _match(self, symbol_id: str) -> None:
        last = self.venue.market(symbol_id).price
        for order in sorted(self.open_orders(symbol_id), key=lambda o: o.order_id):
            if order.type == "MARKET":
                self._fill(order, last, maker=False)
            elif order.price is not None and (last <= order.price if order.side == "BUY"
                                              else last >= order.price):
                self._fill(order, order.price, maker=True)

    def _reduces(self, symbol_id: str, side: str, qty: Decimal) -> bool:
        pos = self.position(symbol_id).qty
        return ((pos > 0 and side == "SELL") or (pos < 0 and side == "BUY")) and qty <= abs(pos)

    def _fill(self, order: FOrder, price: Decimal, *, maker: bool) -> None:
        pos = self.position(order.symbol_id)
        signed = order.qty if order.side == "BUY" else -order.qty
        realized = ZERO
        if pos.qty and (pos.qty > 0) != (signed > 0):  # reducing (and maybe flipping)
            closed = min(abs(signed), abs(pos.qty))
            realized = closed * (price - pos.entry) * (1 if pos.qty > 0 else -1)
            pos.margin -= pos.margin * closed / abs(pos.qty)
            pos.qty += closed if pos.qty < 0 else -closed
            signed += -closed if signed > 0 else closed
            if pos.qty == 0:
                pos.entry, pos.margin = ZERO, ZERO
        if signed:
            total = abs(pos.qty) + abs(signed)
            pos.entry = (abs(pos.qty) * pos.entry + abs(signed) * price) / total
            pos.qty += signed
            pos.margin += abs(signed) * price / self.leverage(order.symbol_id)
        commission = order.qty * price * self.fee_rate
        self.wallet += realized - commission
        trade = FTrade(next(self._trade_ids), order.order_id, order.symbol_id, order.side, price, order.qty,
                       realized, commission, self.venue.now_ms, maker)
        self.trades.append(trade)
        order.executed, order.cum_quote = order.qty, order.qty * price
        order.status, order.update_ms = "FILLED", self.venue.now_ms
        self.events.append(f"fill {order.client_id}")


def _qty(raw: str | None) -> Decimal:
    qty = D(raw or "0")
    if qty <= 0 or qty != (qty / STEP).to_integral_value(rounding=ROUND_FLOOR) * STEP:
        raise VenueReject(-1111, "Precision is over the maximum defined for this asset.")
    return qty


def _crossed(kind: str, side: str, trigger: Decimal, last: Decimal) -> bool:
    """A BUY stop (short's stop) and a SELL take-profit trigger on a rise; the others on a fall."""
    rising = (kind == "STOP_MARKET") == (side == "BUY")
    return last >= trigger if rising else last <= trigger
