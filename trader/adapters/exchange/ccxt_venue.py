"""CcxtExchange: the exchange port over ccxt's async client (Binance, OKX, Kraken, Bybit, Nobitex, Wallex).

Every call maps ccxt errors to our taxonomy and retries only RetryableError with bounded, jittered
backoff. Creation is idempotent on the client order id: after a failure whose outcome is unknown
(timeout, dropped connection, 5xx) the order is looked up by client id before anything is re-sent, and
a venue "duplicate client id" answer returns the existing order.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from trader.adapters.exchange.attached import AttachedOrders, entry_params
from trader.adapters.exchange.brackets import ListedOrder, OrderListBrackets, is_leg
from trader.adapters.exchange.capabilities import (
    VENUE_FACTS,
    Bracket,
    VenueFacts,
    client_id_lookup,
    market_spec_from,
)
from trader.adapters.exchange.ccxt_orders import create_args, dec, fill_from_ccxt, order_from_ccxt, since_ms
from trader.adapters.exchange.client import make_client
from trader.adapters.exchange.errors import DuplicateOrder, map_error
from trader.adapters.exchange.perpetual import PerpetualMixin, PerpetualTerms
from trader.adapters.exchange.protective import cancel_then_place
from trader.adapters.exchange.retry import RetryPolicy, Sleep, call_with_retry
from trader.adapters.exchange.rounding import check_supported
from trader.adapters.exchange.wire_ids import from_uuid, to_uuid
from trader.config.sections import ExchangeConfig
from trader.core.domain.account import AccountSnapshot, Balance
from trader.core.domain.candles import CandleFrame
from trader.core.domain.enums import OrderPurpose, OrderStatus, OrderType
from trader.core.domain.ids import ClientOrderId, Symbol, attached_entry
from trader.core.domain.market import MarketSpec
from trader.core.domain.money import ZERO
from trader.core.domain.orders import Fill, Order, OrderRequest
from trader.core.errors import DataError, ExchangeError, OrderNotFound, RetryableError
from trader.ports.exchange import ReplaceResult

logger = logging.getLogger(__name__)
T = TypeVar("T")
_TRADES_WINDOW = 7 * 24 * 3_600_000  # Binance futures: the longest span one trade-history request covers


class CcxtExchange(PerpetualMixin):
    """The live adapter: our Exchange port over a ccxt async client; amounts rounded by MarketSpec."""

    def __init__(  # noqa: PLR0913
        self,
        config: ExchangeConfig,
        *,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        rate_limit: bool = True,
        public_only: bool = False,
        client: Any | None = None,
        swap: bool = False,
        perpetuals: PerpetualTerms | None = None,
    ) -> None:
        self._client = client if client is not None else make_client(
            config, rate_limit=rate_limit, public_only=public_only, swap=swap)
        self._swap = swap
        self._perpetual_settings: dict[str, tuple[Decimal, str]] = {}  # set on the venue already
        self._perpetual_terms = perpetuals or {}  # pair -> (leverage, margin mode) from the strategies
        self._venue = config.name
        self._quote = config.quote_currency
        # A swap client's facts (its trigger book) are its own: Binance's spot order lists do not apply.
        swap_key = f"{config.name}:swap"
        self._facts_key = swap_key if swap and swap_key in VENUE_FACTS else config.name
        self._facts = VENUE_FACTS.get(self._facts_key, VenueFacts())
        self._retry = retry or RetryPolicy(attempts=config.max_retries + 1)
        self._sleep = sleep
        self._specs: dict[Symbol, MarketSpec] = {}
        self._load_lock = asyncio.Lock()
        self._cid_by_order_id: dict[str, ClientOrderId] = {}
        # Venues whose OCO is an order list beside the order book (Binance spot); None: ccxt's unified params
        self._lists = (OrderListBrackets(self._client, self._call, self._retried)
            if self._facts.bracket is Bracket.ORDER_LIST else None)
        # Venues that attach the protection to the entry (Kraken close, Bybit TP/SL): found by parent
        self._attached = (AttachedOrders(self._client, self._facts, self._retried, self._parse)
            if self._facts.attached else None)

    @property
    def venue(self) -> str:
        """Return the ccxt id of the venue."""
        return self._venue

    # ── plumbing ────────────────────────────────────────────────────────────────────────────
    async def _call(self, what: str, func: Callable[[], Awaitable[T]]) -> T:
        """Run one ccxt call, mapping its errors (Retry-After read from the response headers)."""
        try:
            return await func()
        except ExchangeError:
            raise
        except Exception as exc:
            raise map_error(exc, retry_after=self._retry_after()) from exc

    def _retry_after(self) -> float | None:
        headers = getattr(self._client, "last_response_headers", None) or {}
        value = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None

    async def _retried(self, what: str, func: Callable[[], Awaitable[T]]) -> T:
        return await call_with_retry(lambda: self._call(what, func), self._retry, self._sleep, what=what)

    # ── market data ─────────────────────────────────────────────────────────────────────────
    async def markets(self) -> dict[Symbol, MarketSpec]:
        """Return every spot market (a swap client: every linear perpetual) the venue lists, loaded once."""
        async with self._load_lock:
            if not self._specs:
                raw: dict[str, Any] = await self._retried("load_markets", self._client.load_markets)
                has, mode = self._client.has, self._client.precisionMode
                for symbol, market in raw.items():
                    wanted = bool(market.get("swap") and market.get("linear")) if self._swap \
                        else market.get("spot", True)
                    if wanted and market.get("active", True) is not False:
                        try:
                            spec = market_spec_from(market, has, self._facts_key, mode)
                            pair = self._our_symbol(symbol)  # a perpetual is known by its pair's symbol
                            self._specs[pair] = dataclasses.replace(spec, symbol=pair)
                        except DataError as exc:
                            logger.warning("skipping %s on %s: %s", symbol, self._venue, exc)
                if self._swap:
                    await self._load_tiers(self._specs)
        return self._specs

    async def market(self, symbol: Symbol) -> MarketSpec:
        """Return the MarketSpec of ``symbol``; DataError when the venue does not list it."""
        specs = await self.markets()
        symbol = self._our_symbol(symbol)  # a swap client also answers for 'BTC/USDT:USDT'
        if symbol not in specs:
            raise DataError(f"{self._venue} has no spot market {symbol}",
                            user_message=f"Unknown pair {symbol} on {self._venue}.")
        return specs[symbol]

    async def candles(
        self, symbol: Symbol, timeframe: str, since: datetime | None = None, limit: int | None = None
    ) -> CandleFrame:
        """Return one page of OHLCV candles from ``since`` (oldest first), as the venue serves it."""
        await self.market(symbol)
        rows: list[list[Any]] = await self._retried(
            "fetch_ohlcv",
            lambda: self._client.fetch_ohlcv(self._venue_symbol(symbol), timeframe, since_ms(since), limit))
        unique = sorted({int(r[0]): r for r in rows}.values(), key=lambda r: int(r[0]))
        return CandleFrame.from_arrays(unique)

    async def last_price(self, symbol: Symbol) -> Decimal:
        """Return the latest traded price from the ticker."""
        ticker: dict[str, Any] = await self._retried(
            "fetch_ticker", lambda: self._client.fetch_ticker(self._venue_symbol(symbol)))
        price = dec(ticker.get("last")) or dec(ticker.get("close"))
        if price is None:
            raise DataError(f"{self._venue} ticker for {symbol} has no last price")
        return price

    async def order_book_top(self, symbol: Symbol) -> tuple[Decimal, Decimal]:
        """Return (best bid, best ask)."""
        book: dict[str, Any] = await self._retried(
            "fetch_order_book", lambda: self._client.fetch_order_book(self._venue_symbol(symbol), 5))
        if not book.get("bids") or not book.get("asks"):
            raise DataError(f"{self._venue} order book for {symbol} is empty")
        return dec(book["bids"][0][0]) or ZERO, dec(book["asks"][0][0]) or ZERO

    async def balances(self) -> AccountSnapshot:
        """Return balances and equity in the configured quote currency (held coins at last price).

        A swap client returns the futures wallet and the venue's positions instead (``_swap_balances``).
        """
        if self._swap:
            return await self._swap_balances()
        raw: dict[str, Any] = await self._retried("fetch_balance", self._client.fetch_balance)
        balances: dict[str, Balance] = {}
        for asset, free in (raw.get("free") or {}).items():
            used = (raw.get("used") or {}).get(asset)
            balance = Balance(asset, dec(free) or ZERO, dec(used) or ZERO)
            if balance.total > 0 or asset == self._quote:
                balances[asset] = balance
        quote = balances.get(self._quote, Balance(self._quote, ZERO))
        exposure = ZERO
        specs = await self.markets()
        for asset, balance in balances.items():
            symbol = Symbol(f"{asset}/{self._quote}")
            if asset != self._quote and symbol in specs:
                exposure += balance.total * await self.last_price(symbol)
        return AccountSnapshot(self._quote, quote.total + exposure, quote.free, exposure, balances)

    # ── orders ──────────────────────────────────────────────────────────────────────────────
    async def place(self, request: OrderRequest) -> Order:
        """Place an order once: idempotent on ``request.client_order_id`` across retries and repeats."""
        spec = await self.market(request.symbol)
        check_supported(request, spec)
        unpriced = request.price is None and request.trigger_price is None
        last = await self.last_price(request.symbol) if unpriced else None
        args = create_args(request, spec, self._facts, last)
        client = self._client
        venue_symbol = self._venue_symbol(args.symbol)
        ccxt_params = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in args.params.items()}
        if "clientOrderId" in ccxt_params:
            ccxt_params["clientOrderId"] = self._wire(request.client_order_id)
        ccxt_params.update(entry_params(self._facts, request))
        ccxt_params.update(self._order_params(request.symbol))
        contracts = args.amount / self._contract_size(venue_symbol)

        async def create() -> Order:
            if self._lists is not None and request.type is OrderType.OCO:
                return self._remember_list(await self._lists.place(args, request.client_order_id))
            raw = await self._call("create_order", lambda: client.create_order(
                venue_symbol, args.type, args.side, str(contracts),
                str(args.price) if args.price is not None else None, ccxt_params))
            if raw.get("status") is None:  # a bare acknowledgement (OKX): read the order itself
                return await self._read_back(request) or _acknowledged(request, raw)
            return self._remember(self._parse(raw, request.client_order_id), raw)

        async def lookup() -> Order | None:
            return await self.order(request.symbol, request.client_order_id)

        # Look first: a repeat after a crash must not create a second order (Binance, for one, accepts
        # a reused client id once the first order is no longer open).
        if (existing := await self._existing(request, lookup)) is not None:
            return existing
        if spec.futures is not None and request.purpose is OrderPurpose.ENTRY:
            await self._prepare_entry(request.symbol)
        try:
            return await call_with_retry(create, self._retry, self._sleep, lookup=lookup,
                                         what=f"create {request.client_order_id}")
        except DuplicateOrder:
            found = await self.order(request.symbol, request.client_order_id)
            if found is None:
                raise
            logger.info("%s already on %s; returning it", request.client_order_id, self._venue)
            return found

    async def _existing(self, request: OrderRequest,
                        lookup: Callable[[], Awaitable[Order | None]]) -> Order | None:
        existing = await lookup()
        if existing is None and self._attached is not None and attached_entry(request.client_order_id):
            existing = await self._attached.wait_for(lookup, self._sleep)  # the venue may lag the fill
        return existing

    async def _read_back(self, request: OrderRequest) -> Order | None:
        try:
            return await self.order(request.symbol, request.client_order_id)
        except RetryableError:
            return None  # the order exists (acknowledged); its state is read on the next poll

    def _remember(self, order: Order, raw: dict[str, Any] | None = None) -> Order:
        """Note venue id → client id pairs so fills can be tagged with our id.

        A triggered trigger order (OKX algo) executes as a child order with its own id, listed in the
        raw order as ``ordId``/``ordIdList``: those map to our client id too.
        """
        if order.exchange_order_id and order.client_order_id:
            self._cid_by_order_id[order.exchange_order_id] = order.client_order_id
            info = (raw or {}).get("info") or {}
            # OKX: ordId/ordIdList; Binance futures algo orders: actualOrderId
            children = [info.get("ordId"), info.get("actualOrderId"), *(info.get("ordIdList") or [])]
            for child in children:
                if child and str(child) != order.exchange_order_id:
                    self._cid_by_order_id[str(child)] = order.client_order_id
        return order

    def _remember_list(self, listed: ListedOrder) -> Order:
        """Note the list's and its legs' venue ids as our client id (a leg's fill belongs to the OCO)."""
        for venue_id in (listed.order.exchange_order_id, *listed.leg_ids):
            if venue_id:
                self._cid_by_order_id[venue_id] = listed.order.client_order_id
        return listed.order

    async def replace(self, symbol: Symbol, cancel_client_order_id: ClientOrderId,
                      request: OrderRequest) -> ReplaceResult:
        """Cancel the resting protective order, then place ``request`` unless the old one filled."""
        return await cancel_then_place(self.cancel, self.place, symbol, cancel_client_order_id, request)

    def _wire(self, client_order_id: ClientOrderId) -> str:
        """Return our client id as the venue takes it (a UUID on Kraken)."""
        return to_uuid(client_order_id) if self._facts.uuid_client_ids else client_order_id

    def _parse(self, raw: dict[str, Any], fallback: ClientOrderId | None = None) -> Order:
        """Return our Order for a ccxt order, with the venue's form of our client id turned back."""
        order = order_from_ccxt(raw, fallback)
        if self._swap:
            size = self._contract_size(order.symbol)
            order = dataclasses.replace(order, symbol=self._our_symbol(order.symbol),
                                        amount=order.amount * size, filled=order.filled * size)
        if self._facts.uuid_client_ids and order.client_order_id:
            return dataclasses.replace(order, client_order_id=from_uuid(order.client_order_id))
        return order

    async def _in_lists(self, symbol: Symbol, client_order_id: ClientOrderId) -> Order | None:
        """Find an order by client id among the open, then the closed, orders (Kraken)."""
        query = {"clientOrderId": self._wire(client_order_id)}
        for fetch in (self._client.fetch_open_orders, self._client.fetch_closed_orders):
            found: list[dict[str, Any]] = await self._retried(
                "fetch_orders", partial(fetch, self._venue_symbol(symbol), None, None, query))
            if found:
                return self._remember(self._parse(found[-1], client_order_id), found[-1])
        return None

    async def order(self, symbol: Symbol, client_order_id: ClientOrderId) -> Order | None:
        """Look an order up by client id; None when the venue does not know it."""
        if self._attached is not None and attached_entry(client_order_id) is not None:
            child = await self._attached.find(symbol, client_order_id)
            if child is not None:  # else we placed it ourselves (the venue attached none): as usual
                return self._remember(*child)
        if self._facts.lookup_in_lists:
            return await self._in_lists(symbol, client_order_id)
        for extra in ({}, *self._trigger_queries()):
            order_id, params = client_id_lookup(self._facts, client_order_id, extra)
            try:
                fetch = partial(self._client.fetch_order, order_id, self._venue_symbol(symbol), params)
                raw = await self._retried("fetch_order", fetch)
            except OrderNotFound:
                continue
            return self._remember(self._parse(raw, client_order_id), raw)
        if self._lists is not None:
            listed = await self._lists.fetch(symbol, client_order_id)
            return self._remember_list(listed) if listed is not None else None
        return None

    def _trigger_queries(self) -> tuple[dict[str, Any], ...]:
        # Venues that keep trigger orders in a separate book (OKX algo orders) need a second query.
        if self._facts.trigger_lookup:  # e.g. Bybit spot: orderFilter=tpslOrder
            return (dict(self._facts.trigger_lookup),)
        return ({"trigger": True},) if self._facts.trigger_book else ()

    async def cancel(self, symbol: Symbol, client_order_id: ClientOrderId) -> Order:
        """Cancel by client id; a finished order comes back unchanged, an unknown one raises."""
        current = await self.order(symbol, client_order_id)
        if current is None:
            raise OrderNotFound(f"{self._venue}: no order {client_order_id} on {symbol}")
        if current.status.is_terminal:
            return current
        triggers = self._trigger_queries()
        extra = triggers[0] if current.trigger_price is not None and triggers else {}
        lists = self._lists if current.type is OrderType.OCO else None
        try:
            if lists is not None:
                await lists.cancel(symbol, client_order_id)
            else:
                params = {"clientOrderId": self._wire(client_order_id), **extra}
                if attached_entry(client_order_id) is not None:  # a venue-made child: by its venue id
                    params = extra
                await self._retried("cancel_order", lambda: self._client.cancel_order(
                    current.exchange_order_id, self._venue_symbol(symbol), params))
        except (OrderNotFound, ExchangeError) as exc:
            if isinstance(exc, RetryableError):
                raise
            logger.info("cancel %s: %s; reading its final state", client_order_id, exc)
        final = await self.order(symbol, client_order_id)
        if final is None:
            raise OrderNotFound(f"{self._venue}: {client_order_id} vanished while cancelling")
        if not final.status.is_terminal:
            raise ExchangeError(f"{self._venue}: cancel of {client_order_id} did not take effect",
                                user_message="The exchange did not cancel the order; will check again.")
        return final

    async def open_orders(self, symbol: Symbol | None = None) -> list[Order]:
        """Return resting orders (regular and trigger), optionally for one pair."""
        orders: list[Order] = []
        venue_symbol = self._venue_symbol(symbol) if symbol is not None else None
        books: tuple[dict[str, Any], ...] = ({},)
        if self._facts.trigger_book:
            books += ({k: (True if v == "true" else v) for k, v in self._facts.trigger_book},)
        for extra in books:
            raw: list[dict[str, Any]] = await self._retried(
                "fetch_open_orders", partial(self._client.fetch_open_orders, venue_symbol, None, None, extra))
            orders.extend([self._remember(await self._named(symbol, o), o)
                           for o in raw if not self._is_leg(o)])
        if self._lists is not None:  # each OCO list is one order of ours, not its two legs
            orders.extend(self._remember_list(item) for item in await self._lists.open(symbol))
        return orders

    def _is_leg(self, raw: dict[str, Any]) -> bool:
        return self._lists is not None and is_leg(raw)

    async def fills_since(self, symbol: Symbol, since: datetime) -> list[Fill]:
        """Return our executions on ``symbol`` since ``since`` (paged), each tagged with its client id.

        Binance futures answer at most 7 days per request (ccxt asks for [since, since + 7 days] when
        ``since`` is older): the walk goes on window by window up to the venue's time.
        """
        if self._facts.week_windows:  # Bybit: newest first, a week per request, paged by cursor
            return await self._windowed_fills(symbol, since)
        fills: dict[str, Fill] = {}
        start = since_ms(since)
        horizon = await self._trades_horizon(start)
        size, params = self._facts.trades_page, dict[str, Any]()
        while True:
            page: list[dict[str, Any]] = await self._retried("fetch_my_trades", partial(
                self._client.fetch_my_trades, self._venue_symbol(symbol), start, size, dict(params)))
            for trade in page:
                order_id = trade.get("order")
                cid = await self._client_id_for(symbol, str(order_id) if order_id is not None else None)
                fill = fill_from_ccxt(trade, cid)
                size_of = self._contract_size(fill.symbol)  # OKX fills count contracts
                fills[str(trade["id"])] = dataclasses.replace(
                    fill, symbol=self._our_symbol(fill.symbol), amount=fill.amount * size_of)
            if self._facts.pages_back:  # OKX: the newest page from ``start``; older ones by bill id
                if len(page) < size:
                    break
                params["after"] = min((str((t.get("info") or {})["billId"]) for t in page), key=int)
            elif len(page) >= size:
                start = int(page[-1]["timestamp"]) + 1
            elif horizon is not None and start is not None and start + _TRADES_WINDOW < horizon:
                start += _TRADES_WINDOW + 1  # this window is done: the next one
            else:
                break
        return sorted(fills.values(), key=lambda f: (f.timestamp, f.trade_id))

    async def _trades_horizon(self, start: int | None) -> int | None:
        """Return the venue's time when a perpetual's trade history from ``start`` spans several windows."""
        if not self._facts.trades_window or start is None \
                or self._client.milliseconds() - start < _TRADES_WINDOW:
            return None
        return int(await self._retried("fetch_time", self._client.fetch_time))

    async def _client_id_for(self, symbol: Symbol, order_id: str | None) -> ClientOrderId:
        """Return the client id of a venue order id; empty when the venue gives no order id (Wallex)."""
        if order_id is None:
            return ClientOrderId("")
        # (OKX has no order history query: its triggered order names its algo order itself, below)
        if order_id not in self._cid_by_order_id and self._swap and self._facts.trigger_book \
                and self._client.has.get("fetchOrders"):
            await self._remember_triggered(symbol)  # the market order a triggered stop placed is ours
        if order_id not in self._cid_by_order_id:
            raw = await self._by_venue_id(symbol, order_id)
            if raw is None:
                return ClientOrderId("")
            if self._lists is not None and is_leg(raw):  # a leg's fill belongs to its OCO list
                listed = await self._lists.owner(symbol, str(raw["info"]["orderListId"]))
                if listed is not None:
                    self._remember_list(listed)
                return self._cid_by_order_id.get(order_id, ClientOrderId(""))
            self._remember(await self._named(symbol, raw), raw)
        return self._cid_by_order_id.get(order_id, ClientOrderId(""))

    async def _remember_triggered(self, symbol: Symbol) -> None:
        """Map the orders the venue placed for our triggered conditional orders to their client ids.

        A Binance futures algo order that triggers places a market order (``actualOrderId``) whose own
        client id need not be ours; the algo order history links the two.
        """
        raw: list[dict[str, Any]] = await self._retried("fetch_orders", partial(
            self._client.fetch_orders, self._venue_symbol(symbol), None, None, {"trigger": True}))
        for item in raw:
            self._remember(self._parse(item), item)

    async def _named(self, symbol: Symbol | None, raw: dict[str, Any]) -> Order:
        """Parse a venue order; a child the venue attached to our entry gets its attached id."""
        order = self._parse(raw)
        if self._attached is not None:  # a child carries no id of ours (ccxt may show Kraken's userref)
            owner = await self._attached.owner(symbol, raw)
            if owner is not None:
                return dataclasses.replace(order, client_order_id=owner)
        return order

    async def _by_venue_id(self, symbol: Symbol, order_id: str) -> dict[str, Any] | None:
        """Return the ccxt order with this venue id from either book (Bybit keeps stops apart), or None."""
        for extra in ({}, *self._trigger_queries()):
            params = {**dict(self._facts.lookup_params), **extra}
            try:
                raw: dict[str, Any] = await self._retried(
                    "fetch_order",
                    partial(self._client.fetch_order, order_id, self._venue_symbol(symbol), params))
            except OrderNotFound:
                continue
            return raw
        return None

    async def close(self) -> None:
        """Close the HTTP session."""
        await self._client.close()


def _acknowledged(request: OrderRequest, raw: dict[str, Any]) -> Order:
    """Return the order as sent, OPEN, for a venue acknowledgement that carries no order state."""
    return Order(request.client_order_id, request.symbol, request.side, request.type, request.amount,
                 OrderStatus.OPEN, price=request.price, trigger_price=request.trigger_price,
                 exchange_order_id=str(raw["id"]) if raw.get("id") else None)
