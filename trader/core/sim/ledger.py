"""Simulated account: balances and resting orders in Decimal, filled by ``sim.matching``.

The PaperExchange wraps this behind the async exchange port, so it behaves like a spot venue: placing is
idempotent on the client order id; a sell locks the coins it may sell and a buy limit locks its quote, so
two closing orders cannot lock the same coins (an OCO locks them once for its stop and take-profit legs:
``trigger_price`` is the stop, ``price`` the take-profit limit; ``matching.oco_leg`` tells which leg
filled); fees are charged in the quote currency on every fill.
A perpetual swap (``MarketSpec.futures``) holds a signed contract position per market instead of coins:
a fill that opens or adds locks margin (notional / leverage) from the free quote, one that reduces
releases its share of the margin plus the realised gain; a reduce larger than the position is rejected
(reduce-only, never flipping). Equity adds the unrealised gain at the given prices. Risk only admits a
stop inside the liquidation price, but a gap can jump past both: a closing fill priced beyond the
position's isolated liquidation price (``_liquidated``) is a liquidation instead, at the bankruptcy
price with no fee, so the position loses exactly its margin, as on the venue. A position still open
after a bar's resting orders matched (engine-watched: no stop rests here) whose liquidation price the
bar reached is liquidated there and then (``_liquidate_watched``); the engine's closing order for it,
sent once it sees its stop crossed, is then filled at that bankruptcy price with no fee, so the engine
books the liquidation as its exit. On cross margin the account's free quote backs the position too: it
is lost with the margin.
Orders fill only when ``on_bar`` shows them a price (or at placement when a current price is given).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from trader.core.domain.account import AccountSnapshot, Balance
from trader.core.domain.candles import ms_to_datetime
from trader.core.domain.enums import Direction, OrderStatus, OrderType, Side
from trader.core.domain.futures import liquidation_price
from trader.core.domain.ids import ClientOrderId, Symbol
from trader.core.domain.market import MarketSpec
from trader.core.domain.money import ZERO
from trader.core.domain.orders import Fill, Order, OrderRequest
from trader.core.errors import InsufficientFunds, InvalidOrder, OrderNotFound
from trader.core.sim.costs import FeeModel, Liquidity, SlippageModel
from trader.core.sim.matching import Bar, Match, match_exit, match_order, touches_stop


class SimLedger:
    """Balances per asset and orders by client id; every change goes through a method here."""

    def __init__(
        self,
        balances: Mapping[str, Decimal],
        markets: Iterable[MarketSpec],
        *,
        fees: FeeModel | None = None,
        slippage: SlippageModel | None = None,
    ) -> None:
        self._free: dict[str, Decimal] = {a: Decimal(v) for a, v in balances.items()}
        self._used: dict[str, Decimal] = dict.fromkeys(self._free, ZERO)
        self._markets = {m.symbol: m for m in markets}
        self._fees = fees
        self._slippage = slippage or SlippageModel()
        self._orders: dict[ClientOrderId, Order] = {}
        self._fills: list[Fill] = []
        self._locks: dict[ClientOrderId, tuple[str, Decimal]] = {}
        self._open: dict[ClientOrderId, Order] = {}  # the non-terminal subset of _orders
        self._rejected: list[Order] = []  # rejected when matched (funds gone), not yet reported
        self._contracts: dict[Symbol, tuple[Decimal, Decimal]] = {}  # swap: (signed amount, average entry)
        self._margin: dict[Symbol, Decimal] = {}  # swap: margin locked (inside the quote's used balance)
        # swap: liquidated while engine-watched, not yet reported: (signed amount, bankruptcy price)
        self._liquidations: dict[Symbol, tuple[Decimal, Decimal]] = {}

    # ── queries ──────────────────────────────────────────────────────────────────────────────
    def balances(self) -> dict[str, Balance]:
        """Return every asset's free and locked balance."""
        return {a: Balance(a, self._free[a], self._used.get(a, ZERO)) for a in self._free}

    def total(self, asset: str) -> Decimal:
        """Return the free plus locked balance of one asset (zero when unknown)."""
        return self._free.get(asset, ZERO) + self._used.get(asset, ZERO)

    def order(self, client_order_id: ClientOrderId) -> Order | None:
        """Return the order with this client id, or None."""
        return self._orders.get(client_order_id)

    def open_orders(self, symbol: Symbol | None = None) -> list[Order]:
        """Return orders not yet in a terminal status, optionally for one symbol."""
        return [o for o in self._open.values() if symbol is None or o.symbol == symbol]

    def fills_since(self, since: datetime) -> list[Fill]:
        """Return fills at or after ``since``, oldest first."""
        return [f for f in self._fills if f.timestamp >= since]

    def snapshot(self, quote: str, prices: Mapping[Symbol, Decimal], *,
                 with_balances: bool = True) -> AccountSnapshot:
        """Return equity in ``quote`` valuing each base asset at ``prices`` (missing price: error).

        ``with_balances=False`` leaves the per-asset balances out (the engine does not read them).
        """
        equity = self._free.get(quote, ZERO) + self._used.get(quote, ZERO)
        exposure = spot_value = ZERO
        for symbol, (held, entry) in self._contracts.items():
            if held and self._markets[symbol].quote == quote:
                if symbol not in prices:
                    raise InvalidOrder(f"no price for {symbol} to value {held} contracts")
                equity += held * (prices[symbol] - entry)
                exposure += abs(held) * prices[symbol]
        for symbol, market in self._markets.items():
            if market.futures is not None:
                continue
            held = self._free.get(market.base, ZERO) + self._used.get(market.base, ZERO)
            if held and market.quote == quote:
                if symbol not in prices:
                    raise InvalidOrder(f"no price for {symbol} to value {held} {market.base}")
                exposure += held * prices[symbol]
                spot_value += held * prices[symbol]
        # a perpetuals account reports its signed positions (reconciliation compares them), spot none
        positions: dict[str, Decimal] | None = None
        if any(m.futures is not None for m in self._markets.values()):
            positions = {s: held for s, (held, _) in self._contracts.items() if held}
        return AccountSnapshot(quote, equity + spot_value, self._free.get(quote, ZERO), exposure,
                               self.balances() if with_balances else {}, positions=positions)

    # ── commands ─────────────────────────────────────────────────────────────────────────────
    def place(self, request: OrderRequest, now: datetime, current: Bar | None = None) -> Order:
        """Accept an order (idempotent on client id), lock its funds, and match it on ``current``.

        Raise InvalidOrder for an unknown market or an amount off precision or below minimums, and
        InsufficientFunds when the free balance cannot cover what the order locks.
        """
        known = self._orders.get(request.client_order_id)
        if known is not None:
            return known
        market = self._market(request.symbol)
        reference = request.price or request.trigger_price or (current.close if current else None)
        self._validate(request, market, reference)
        asset, locked = self._lock_for(request, market)
        if locked > self._free.get(asset, ZERO):
            raise InsufficientFunds(
                f"{request.client_order_id}: needs {locked} {asset}, free {self._free.get(asset, ZERO)}"
            )
        self._move(asset, locked, to_used=True)
        self._locks[request.client_order_id] = (asset, locked)
        order = Order(request.client_order_id, request.symbol, request.side, request.type, request.amount,
                      OrderStatus.OPEN, price=request.price, trigger_price=request.trigger_price,
                      updated_at=now)
        self._store(order)
        if self._report_liquidation(order, market, now):
            return self._orders[order.client_order_id]
        if current is not None:
            self._try_fill(order, current, now)
        return self._orders[order.client_order_id]

    def cancel(self, client_order_id: ClientOrderId, now: datetime) -> Order:
        """Cancel an open order and release its locked funds; a terminal order is returned unchanged."""
        order = self._orders.get(client_order_id)
        if order is None:
            raise OrderNotFound(f"unknown order {client_order_id}")
        if order.status.is_terminal:
            return order
        self._release(order)
        done = order.with_status(OrderStatus.CANCELLED, updated_at=now)
        self._store(done)
        return done

    def on_bar(self, symbol: Symbol, bar: Bar, detail: Sequence[Bar] = (), *,
               markets: bool = True) -> list[Fill]:
        """Match every open order of ``symbol`` against ``bar``; return the new fills.

        ``detail`` (the bar's lower-timeframe candles) resolves an OCO whose legs both touch the bar.
        ``markets`` False leaves market orders waiting (they fill at the next bar's open).
        """
        now = ms_to_datetime(bar.timestamp)
        before = len(self._fills)
        for order in self.open_orders(symbol):
            if markets or order.type is not OrderType.MARKET:
                self._try_fill(order, bar, now, detail)
        self._liquidate_watched(symbol, bar)
        return self._fills[before:]

    def pop_rejected(self) -> list[Order]:
        """Return the orders rejected at matching time (not enough funds then) since the last call."""
        rejected, self._rejected = self._rejected, []
        return rejected

    def settle(self, client_order_id: ClientOrderId, match: Match, now: datetime) -> Fill | None:
        """Fill an open order with an already decided ``match`` (the backtest kernel's exit decision).

        Return the fill, or None when the order is no longer open or the funds are missing (REJECTED).
        """
        order = self._orders.get(client_order_id)
        if order is None or order.status.is_terminal:
            return None
        before = len(self._fills)
        self._settle(order, self._market(order.symbol), match, now)
        return self._fills[before] if len(self._fills) > before else None

    # ── internals ────────────────────────────────────────────────────────────────────────────
    def _market(self, symbol: Symbol) -> MarketSpec:
        market = self._markets.get(symbol)
        if market is None:
            raise InvalidOrder(f"unknown market {symbol}")
        return market

    def _validate(self, request: OrderRequest, market: MarketSpec, reference: Decimal | None) -> None:
        if market.round_amount(request.amount) != request.amount:
            raise InvalidOrder(f"amount {request.amount} is not a multiple of {market.amount_step}")
        if request.type is not OrderType.MARKET and reference is None:
            raise InvalidOrder(f"{request.type} order needs a price")
        if reference is not None:
            problem = market.minimums_problem(request.amount, reference)
            if problem:
                raise InvalidOrder(problem)

    def held(self, symbol: Symbol) -> Decimal:
        """Return what the account holds of a market: base coins on spot, signed contracts on a swap."""
        market = self._market(symbol)
        if market.futures is not None:
            return self.position(symbol)[0]
        return self.total(market.base)

    def contracts(self) -> dict[Symbol, tuple[Decimal, Decimal, Decimal]]:
        """Return every open swap position as (signed amount, average entry, margin locked)."""
        return {s: (held, entry, self._margin.get(s, ZERO)) for s, (held, entry) in self._contracts.items()
                if held}

    def restore_contract(self, symbol: Symbol, held: Decimal, entry: Decimal, margin: Decimal) -> None:
        """Put back a saved swap position; its margin moves from the free quote (restored whole) to used."""
        self._contracts[symbol] = (held, entry)
        self._margin[symbol] = margin
        self._move(self._market(symbol).quote, margin, to_used=True)

    def liquidated(self, symbol: Symbol) -> Decimal:
        """Return the signed amount liquidated on ``symbol`` that no closing order has reported yet."""
        return self._liquidations.get(symbol, (ZERO, ZERO))[0]

    def liquidations(self) -> dict[Symbol, tuple[Decimal, Decimal]]:
        """Return the liquidations not reported yet: (signed amount, bankruptcy price) per swap market."""
        return dict(self._liquidations)

    def restore_liquidation(self, symbol: Symbol, held: Decimal, price: Decimal) -> None:
        """Put back a saved liquidation not reported yet (its loss is already in the saved balances)."""
        self._liquidations[symbol] = (held, price)

    def position(self, symbol: Symbol) -> tuple[Decimal, Decimal]:
        """Return a swap market's (signed amount, average entry price); (0, 0) when flat."""
        return self._contracts.get(symbol, (ZERO, ZERO))

    def _lock_for(self, request: OrderRequest, market: MarketSpec) -> tuple[str, Decimal]:
        if market.futures is not None:
            return market.quote, ZERO  # margin is taken when the order fills (and checked then)
        if request.side is Side.SELL:
            return market.base, request.amount
        if request.type is OrderType.LIMIT and request.price is not None:
            cost = request.amount * request.price
            return market.quote, cost + self._fee_model(market).fee(cost, Liquidity.TAKER)
        return market.quote, ZERO  # market/stop buys are checked against free quote when they fill

    def _try_fill(self, order: Order, bar: Bar, now: datetime, detail: Sequence[Bar] = ()) -> None:
        market = self._market(order.symbol)
        if order.type is OrderType.OCO:
            leg = match_exit(order.side, bar, stop=order.trigger_price, take_profit=order.price,
                             detail=detail, slippage=self._slippage)
            match = None if leg is None else leg[1]
        else:
            match = match_order(order.type, order.side, bar, price=order.price, trigger=order.trigger_price,
                                slippage=self._slippage)
        if match is None:
            if order.type is OrderType.STOP_LIMIT and _triggered(order, bar):
                self._store(replace(order, type=OrderType.LIMIT))
            return
        self._settle(order, market, match, now)

    def _settle(self, order: Order, market: MarketSpec, match: Match, now: datetime) -> None:
        amount = order.remaining
        bankruptcy = self._liquidated(order, market, match.price)
        if bankruptcy is not None:
            match = Match(bankruptcy, Liquidity.TAKER, gapped=True)
        cost = amount * match.price
        fee = ZERO if bankruptcy is not None else self._fee_model(market).fee(cost, match.liquidity)
        self._release(order)
        if market.futures is not None:
            if not self._settle_contract(order, market, amount, match.price, fee):
                self._reject(order, now)
                return
        elif order.side is Side.BUY:
            if cost + fee > self._free.get(market.quote, ZERO):
                self._reject(order, now)
                return
            self._add(market.quote, -(cost + fee))
            self._add(market.base, amount)
        else:
            if amount > self._free.get(market.base, ZERO):
                self._reject(order, now)
                return
            self._add(market.base, -amount)
            self._add(market.quote, cost - fee)
        self._store(order.with_status(
            OrderStatus.FILLED, filled=order.amount, average_price=match.price, fee=fee,
            fee_currency=market.quote, updated_at=now,
        ))
        trade_id = f"sim-{order.client_order_id}-{len(self._fills)}"
        self._fills.append(Fill(trade_id, order.client_order_id, order.symbol, order.side, amount,
                                match.price, fee, market.quote, now))

    def _settle_contract(self, order: Order, market: MarketSpec, amount: Decimal, price: Decimal,
                         fee: Decimal) -> bool:
        """Book a swap fill on the contract position; False when margin or position is missing."""
        assert market.futures is not None
        held, entry = self.position(order.symbol)
        signed = amount if order.side is Side.BUY else -amount
        quote = market.quote
        if held == 0 or (held > 0) == (signed > 0):  # opens or adds
            margin = amount * price / market.futures.leverage
            if margin + fee > self._free.get(quote, ZERO):
                return False
            self._add(quote, -fee)
            self._move(quote, margin, to_used=True)  # locked as the position's margin
            self._margin[order.symbol] = self._margin.get(order.symbol, ZERO) + margin
            total = abs(held) + amount
            self._contracts[order.symbol] = (held + signed, (abs(held) * entry + amount * price) / total)
            return True
        if amount > abs(held):
            return False  # reduce-only: never flips the position
        released = self._margin.get(order.symbol, ZERO) * amount / abs(held)
        gain = (price - entry) * amount if held > 0 else (entry - price) * amount
        self._move(quote, released, to_used=False)
        self._add(quote, gain - fee)
        self._margin[order.symbol] = self._margin.get(order.symbol, ZERO) - released
        left = held + signed
        self._contracts[order.symbol] = (left, entry if left else ZERO)
        return True

    def _liquidated(self, order: Order, market: MarketSpec, price: Decimal) -> Decimal | None:
        """Return the bankruptcy price when a closing swap fill at ``price`` lies beyond the liquidation
        price (the venue liquidated the position first: a gap through the stop and the liquidation
        price); None for any other fill."""
        held, _ = self.position(order.symbol)
        closing = held != 0 and (held > 0) != (order.side is Side.BUY)
        if market.futures is None or not closing:
            return None
        return self._bankruptcy(order.symbol, market, price, price)

    def _bankruptcy(self, symbol: Symbol, market: MarketSpec, low: Decimal, high: Decimal) -> Decimal | None:
        """Return the bankruptcy price of ``symbol``'s swap position when a price range [low, high]
        reaches its liquidation price; None when it does not (or on spot, or flat)."""
        held, entry = self.position(symbol)
        if market.futures is None or not held:
            return None
        backing = self._margin.get(symbol, ZERO)
        free = self._free.get(market.quote, ZERO)
        direction = Direction.LONG if held > 0 else Direction.SHORT
        liquidation = liquidation_price(direction, entry, abs(held), market.futures, backing, free=free)
        if liquidation is None or (low > liquidation if held > 0 else high < liquidation):
            return None
        if market.futures.margin_mode == "cross":  # the free balance went with it
            backing += max(free, ZERO)
        per_unit = backing / abs(held)  # everything backing it is lost at the bankruptcy price
        return entry - per_unit if held > 0 else entry + per_unit  # unrounded: exactly the backing

    def _liquidate_watched(self, symbol: Symbol, bar: Bar) -> None:
        """Liquidate a swap position the bar's range took to its liquidation price (no stop rested)."""
        market = self._market(symbol)
        bankruptcy = self._bankruptcy(symbol, market, bar.low, bar.high)
        if bankruptcy is None:
            return
        held, entry = self.position(symbol)
        margin = self._margin.pop(symbol, ZERO)
        self._move(market.quote, margin, to_used=False)
        self._add(market.quote, (bankruptcy - entry) * held)  # minus the margin (and on cross the free)
        self._contracts[symbol] = (ZERO, ZERO)
        done, _ = self._liquidations.get(symbol, (ZERO, ZERO))
        self._liquidations[symbol] = (done + held, bankruptcy)

    def _report_liquidation(self, order: Order, market: MarketSpec, now: datetime) -> bool:
        """Fill a closing order for a liquidated position at the bankruptcy price, no fee; True if filled."""
        held, price = self._liquidations.get(order.symbol, (ZERO, ZERO))
        if not held or (held > 0) != (order.side is Side.SELL) or order.amount > abs(held):
            return False
        self._release(order)
        left = held - order.amount if held > 0 else held + order.amount
        if left:
            self._liquidations[order.symbol] = (left, price)
        else:
            del self._liquidations[order.symbol]
        self._store(order.with_status(OrderStatus.FILLED, filled=order.amount, average_price=price,
                                      fee=ZERO, fee_currency=market.quote, updated_at=now))
        self._fills.append(Fill(f"sim-{order.client_order_id}-{len(self._fills)}", order.client_order_id,
                                order.symbol, order.side, order.amount, price, ZERO, market.quote, now))
        return True

    def charge_funding(self, symbol: Symbol, rate: Decimal, mark: Decimal, *,
                       held: Decimal | None = None) -> Decimal:
        """Charge (or pay) one funding interval on a swap position at ``mark``; return the quote paid.

        ``held`` is the signed position at the funding time when it differs from now (paper charges a
        funding time after the fact); default: the position now.
        """
        if held is None:
            held, _ = self.position(symbol)
        paid = held * mark * rate  # longs pay a positive rate, shorts receive it
        if paid:
            self._add(self._market(symbol).quote, -paid)
        return paid

    def _reject(self, order: Order, now: datetime) -> None:
        rejected = order.with_status(OrderStatus.REJECTED, updated_at=now)
        self._store(rejected)
        self._rejected.append(rejected)

    def _store(self, order: Order) -> None:
        self._orders[order.client_order_id] = order
        if order.status.is_terminal:
            self._open.pop(order.client_order_id, None)
        else:
            self._open[order.client_order_id] = order

    def _release(self, order: Order) -> None:
        asset, locked = self._locks.pop(order.client_order_id, ("", ZERO))
        if locked:
            self._move(asset, locked, to_used=False)

    def _fee_model(self, market: MarketSpec) -> FeeModel:
        return self._fees or FeeModel.from_market(market)

    def _move(self, asset: str, amount: Decimal, *, to_used: bool) -> None:
        sign = 1 if to_used else -1
        self._free[asset] = self._free.get(asset, ZERO) - sign * amount
        self._used[asset] = self._used.get(asset, ZERO) + sign * amount

    def _add(self, asset: str, amount: Decimal) -> None:
        self._free[asset] = self._free.get(asset, ZERO) + amount
        self._used.setdefault(asset, ZERO)


def _triggered(order: Order, bar: Bar) -> bool:
    return order.trigger_price is not None and touches_stop(order.side, bar, order.trigger_price)
