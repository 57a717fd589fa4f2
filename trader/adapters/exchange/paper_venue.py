"""PaperExchange: the exchange port over the backtest's simulator (``trader.core.sim``), for paper and replay.

Orders go to ``sim.ledger.SimLedger`` and fill by ``sim.matching`` rules when a price arrives through
``on_price`` (live ticks) or ``on_candle`` (replayed candles): a market order fills at the next price
(the next candle's open), like the backtest. Partial fills are not simulated (the simulator fills
whole orders). Market data comes from ``market_data`` (a public,
key-less CcxtExchange) when given, else from the candles fed so far. ``snapshot``/``restore`` turn the
whole account into plain data; ``saver`` (see ``paper_store``) saves it after every order change.
On perpetuals ``funding`` (the venue's public rates, or a replay's funding files) is charged at each
funding time by ``paper_funding`` and reported by ``funding_paid`` as a venue reports it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

import numpy as np

from trader.adapters.exchange import paper_state as codec
from trader.adapters.exchange.paper_funding import FileRates, PaperFunding, RateSource
from trader.adapters.exchange.protective import cancel_then_place
from trader.adapters.exchange.rounding import check_supported, rounded_request
from trader.config.sections import ExchangeConfig
from trader.core.domain.account import AccountSnapshot
from trader.core.domain.candles import CandleFrame, datetime_to_ms, ms_to_datetime, timeframe_ms
from trader.core.domain.enums import OrderType, Side
from trader.core.domain.ids import ClientOrderId, Symbol
from trader.core.domain.market import MarketSpec
from trader.core.domain.money import ONE, ZERO
from trader.core.domain.orders import Fill, Order, OrderRequest
from trader.core.errors import DataError, InsufficientFunds, InvalidOrder, OrderNotFound
from trader.core.sim.costs import FeeModel, SlippageModel
from trader.core.sim.ledger import SimLedger
from trader.core.sim.matching import Bar
from trader.ports.clock import Clock
from trader.ports.exchange import ReplaceResult


class MarketData(Protocol):
    """The public market-data half of the exchange port (a key-less CcxtExchange fits)."""

    async def candles(
        self, symbol: Symbol, timeframe: str, since: datetime | None = None, limit: int | None = None
    ) -> CandleFrame: ...

    async def last_price(self, symbol: Symbol) -> Decimal: ...

    async def order_book_top(self, symbol: Symbol) -> tuple[Decimal, Decimal]: ...


@dataclass(frozen=True, slots=True)
class PaperCosts:
    """Simulated costs: fee model (None: each market's own rates) and taker slippage."""

    fees: FeeModel | None = None
    slippage: SlippageModel = field(default_factory=SlippageModel)

    @classmethod
    def from_config(cls, config: ExchangeConfig) -> PaperCosts:
        """Return the paper fee and slippage configured in the exchange section."""
        return cls(FeeModel.flat(config.paper_fee), SlippageModel(config.paper_slippage))


@dataclass(frozen=True, slots=True)
class PaperChanges:
    """What one save writes: the account ``core`` (balances, open orders, prices: small), the ``fills``
    numbered from ``first_fill`` and the ``finished`` orders (with their requests) from ``first_order``."""

    core: dict[str, Any]
    first_fill: int
    fills: list[dict[str, Any]]
    first_order: int
    finished: list[dict[str, Any]]


class PaperExchange:
    """A simulated spot venue behind the async exchange port; state in ``snapshot()`` plain data."""

    def __init__(  # noqa: PLR0913 - every part of a paper account is optional and named
        self,
        markets: Iterable[MarketSpec],
        *,
        quote: str,
        balances: Mapping[str, Decimal],
        costs: PaperCosts | None = None,
        market_data: MarketData | None = None,
        clock: Clock | None = None,
        saver: Callable[[PaperChanges], Awaitable[None]] | None = None,
        funding: RateSource | None = None,
    ) -> None:
        # The simulator places every protective order itself: nothing rides on an entry here.
        self._specs = {m.symbol: replace(m, capabilities=replace(
            m.capabilities, attached_bracket=False)) for m in markets}
        self._quote = quote
        costs = costs or PaperCosts()
        self._fees = costs.fees
        self._slippage = costs.slippage
        self._data = market_data
        self._clock = clock
        self._saver = saver
        self._funding = PaperFunding(funding, throttle=not isinstance(funding, FileRates))
        self._funding_source = funding
        self._ledger = self._new_ledger(balances)
        self._requests: dict[ClientOrderId, OrderRequest] = {}
        self._done: dict[ClientOrderId, Order] = {}  # terminal orders restored from a snapshot
        self._fills: list[Fill] = []
        self._prices: dict[Symbol, Decimal] = {}
        self._last_bar: dict[Symbol, Bar] = {}
        self._history: dict[Symbol, tuple[str, list[list[float]]]] = {}
        self._now = datetime(1970, 1, 1, tzinfo=UTC)
        # Incremental saving: fills and finished orders are written once each (``PaperChanges``), so a
        # save costs the same at the 10th fill and the 10,000th; the account core is small.
        self._saved_fills = 0
        self._saved_orders = 0
        self._touched: set[ClientOrderId] = set()  # orders changed since the last save
        self._open_saved: set[ClientOrderId] = set()  # open in the last saved core
        self._unsaved = False  # a change without a fill (a liquidation) waits for the next save

    def _new_ledger(self, balances: Mapping[str, Decimal]) -> SimLedger:
        return SimLedger(balances, self._specs.values(), fees=self._fees, slippage=self._slippage)

    # ── feeding prices ──────────────────────────────────────────────────────────────────────
    def on_price(self, symbol: Symbol, price: Decimal, at: datetime) -> list[Fill]:
        """Feed one traded price (live tick); match resting orders; return the new fills."""
        return self._on_bar(symbol, Bar.tick(datetime_to_ms(at), price))

    def on_candle(self, symbol: Symbol, timeframe: str, row: tuple[int, float, float, float, float, float]
                  ) -> list[Fill]:
        """Feed one closed candle [open ms, o, h, l, c, v] (replay); match on it; return the new fills."""
        ts, o, h, low, c, v = row
        tf, rows = self._history.setdefault(symbol, (timeframe, []))
        if tf != timeframe:
            raise DataError(f"{symbol}: fed {timeframe} candles after {tf} ones")
        if rows and int(ts) <= rows[-1][0]:
            raise DataError(f"{symbol}: candle {ts} is not after {rows[-1][0]}")
        rows.append([float(ts), float(o), float(h), float(low), float(c), float(v)])
        bar = Bar(int(ts), *(Decimal(repr(float(x))) for x in (o, h, low, c)))
        fills = self._on_bar(symbol, bar)
        self._now = max(self._now, ms_to_datetime(int(ts) + timeframe_ms(timeframe)))
        return fills

    def _on_bar(self, symbol: Symbol, bar: Bar) -> list[Fill]:
        if self._spec(symbol).futures is not None:
            self._funding.on_price(symbol, bar.timestamp, bar.close)
        self._prices[symbol] = bar.close
        self._last_bar[symbol] = bar
        self._now = max(self._now, ms_to_datetime(bar.timestamp))
        liquidated = self._ledger.liquidated(symbol)
        fills = self._ledger.on_bar(symbol, bar)
        self._record(fills)
        self._unsaved |= self._ledger.liquidated(symbol) != liquidated  # the venue closed a position
        return fills

    def _record(self, fills: list[Fill]) -> None:
        self._fills.extend(fills)
        self._touched.update(f.client_order_id for f in fills)

    def rematch(self, symbol: Symbol) -> list[Fill]:
        """Match resting orders again on the last price or candle fed; return the new fills.

        Replay uses it like the backtest: a stop placed after an entry filled at a candle's open can
        still be hit inside that same candle. A market order placed meanwhile is not filled here: it
        waits for the next price (the next candle's open), as in the backtest.
        """
        bar = self._last_bar.get(symbol)
        if bar is None:
            return []
        fills = self._ledger.on_bar(symbol, bar, markets=False)
        self._record(fills)
        return fills

    # ── market data ─────────────────────────────────────────────────────────────────────────
    async def markets(self) -> dict[Symbol, MarketSpec]:
        """Return the simulated markets."""
        return dict(self._specs)

    async def market(self, symbol: Symbol) -> MarketSpec:
        """Return the MarketSpec of ``symbol``; DataError for an unknown pair."""
        return self._spec(symbol)

    def _spec(self, symbol: Symbol) -> MarketSpec:
        if symbol not in self._specs:
            raise DataError(f"paper exchange has no market {symbol}", user_message=f"Unknown pair {symbol}.")
        return self._specs[symbol]

    async def candles(
        self, symbol: Symbol, timeframe: str, since: datetime | None = None, limit: int | None = None
    ) -> CandleFrame:
        """Return candles from the live source, else the replayed ones fed so far (resampled up)."""
        self._spec(symbol)
        if self._data is not None:
            return await self._data.candles(symbol, timeframe, since, limit)
        fed_tf, rows = self._history.get(symbol, (timeframe, []))
        if since is not None and fed_tf == timeframe:  # convert only the rows asked for (replay ticks)
            rows = rows[bisect_left(rows, float(datetime_to_ms(since)), key=lambda r: r[0]):]
        frame = CandleFrame.from_arrays(np.array(rows, dtype=np.float64).reshape(-1, 6))
        if fed_tf != timeframe:
            if timeframe_ms(timeframe) < timeframe_ms(fed_tf):
                raise DataError(f"replay feeds {fed_tf} candles; cannot serve {timeframe}")
            frame = frame.resample(timeframe)
        if since is not None:
            frame = frame.slice(int(np.searchsorted(frame.timestamp, datetime_to_ms(since))))
            return frame.slice(0, limit) if limit else frame
        return frame.tail(limit) if limit else frame

    async def last_price(self, symbol: Symbol) -> Decimal:
        """Return the latest price (fetched from the live source, which also feeds it, when there is one)."""
        self._spec(symbol)
        if self._data is not None:
            price = await self._data.last_price(symbol)
            at = self._clock.now() if self._clock is not None else self._now
            if self.on_price(symbol, price, max(self._now, at)) or self._unsaved:
                await self.persist()  # fills change the account: save before anyone hears of them
        if symbol not in self._prices:
            raise DataError(f"no price yet for {symbol} on the paper exchange")
        return self._prices[symbol]

    async def order_book_top(self, symbol: Symbol) -> tuple[Decimal, Decimal]:
        """Return (bid, ask): the live book when there is a source, else the last price both sides."""
        if self._data is not None:
            return await self._data.order_book_top(symbol)
        price = await self.last_price(symbol)
        return price, price

    async def balances(self) -> AccountSnapshot:
        """Return balances and equity in the quote currency at the last prices (funding charged first)."""
        await self.settle_funding()
        return self._ledger.snapshot(self._quote, self._prices)

    async def settle_funding(self, until: datetime | None = None) -> None:
        """Charge the funding times passed since the last charge on the perpetual positions held then.

        ``until``: the time reached, when later than the last price fed (a replayed candle's close).
        """
        if until is not None:
            self._funding.reach(datetime_to_ms(until))
        if await self._funding.settle(self._ledger, self._fills):
            await self.persist()

    async def funding_paid(self, symbol: str, since: datetime) -> list[tuple[datetime, Decimal]]:
        """Return the funding charged on ``symbol``'s perpetual since ``since`` (negative: received)."""
        await self.settle_funding()
        return self._funding.paid(symbol, since)

    # ── orders ──────────────────────────────────────────────────────────────────────────────
    async def place(self, request: OrderRequest) -> Order:
        """Accept an order (idempotent on client id); market orders fill at the next price fed."""
        known = self._find(request.client_order_id)
        if known is not None:
            return known
        spec = self._spec(request.symbol)
        last = self._prices.get(request.symbol)
        request = rounded_request(request, spec, last)
        check_supported(request, spec)
        if request.type is OrderType.MARKET and request.side is Side.BUY:
            self._check_market_buy(request, spec, last)
        order = self._ledger.place(request, self._now)
        self._requests[request.client_order_id] = request
        self._touched.add(request.client_order_id)
        await self.persist()
        return order

    def _check_market_buy(self, request: OrderRequest, spec: MarketSpec, last: Decimal | None) -> None:
        if last is None:
            raise InvalidOrder(f"no price yet for {request.symbol}: cannot value a market buy")
        rate = (self._fees or FeeModel.from_market(spec)).taker
        price = self._slippage.apply(last, Side.BUY)
        need = request.amount * price * (ONE + rate)
        if spec.futures is not None:  # a swap buy pays margin on what it opens; buying back a short frees it
            short = self._ledger.position(request.symbol)[0] + self._ledger.liquidated(request.symbol)
            closing = min(request.amount, max(-short, ZERO))
            need = (request.amount - closing) * price / spec.futures.leverage + request.amount * price * rate
        free = self._ledger.balances().get(spec.quote)
        if free is None or free.free < need:
            have = free.free if free else ZERO
            raise InsufficientFunds(
                f"{request.client_order_id}: needs about {need} {spec.quote}, free {have}",
                user_message="Not enough balance on the paper account for this order.")

    def _find(self, client_order_id: ClientOrderId) -> Order | None:
        return self._ledger.order(client_order_id) or self._done.get(client_order_id)

    async def cancel(self, symbol: Symbol, client_order_id: ClientOrderId) -> Order:
        """Cancel an open order; a finished one comes back unchanged; an unknown one raises."""
        if client_order_id in self._done:
            return self._done[client_order_id]
        order = self._ledger.order(client_order_id)
        if order is None or order.symbol != symbol:
            raise OrderNotFound(f"paper: no order {client_order_id} on {symbol}")
        cancelled = self._ledger.cancel(client_order_id, self._now)
        self._touched.add(client_order_id)
        await self.persist()
        return cancelled

    async def replace(self, symbol: Symbol, cancel_client_order_id: ClientOrderId,
                      request: OrderRequest) -> ReplaceResult:
        """Cancel the resting protective order, then place ``request`` unless the old one filled."""
        return await cancel_then_place(self.cancel, self.place, symbol, cancel_client_order_id, request)

    async def order(self, symbol: Symbol, client_order_id: ClientOrderId) -> Order | None:
        """Look an order up by client id."""
        found = self._find(client_order_id)
        return found if found is not None and found.symbol == symbol else None

    async def open_orders(self, symbol: Symbol | None = None) -> list[Order]:
        """Return resting orders, optionally for one pair."""
        return self._ledger.open_orders(symbol)

    async def fills_since(self, symbol: Symbol, since: datetime) -> list[Fill]:
        """Return fills on ``symbol`` at or after ``since``."""
        return [f for f in self._fills if f.symbol == symbol and f.timestamp >= since]

    async def close(self) -> None:
        """Release the market-data (and funding-rate) connections, if any."""
        for source in (self._data, self._funding_source):
            closer = getattr(source, "close", None)
            if closer is not None:
                await closer()

    # ── persistence ─────────────────────────────────────────────────────────────────────────
    async def persist(self) -> None:
        """Save what changed through the saver, if one is attached (feeders call it after a feed)."""
        if self._saver is None:
            return
        changes = self.changes()
        await self._saver(changes)
        # Only after the saver committed: a failed save is retried whole by the next one.
        self._saved_fills += len(changes.fills)
        self._saved_orders += len(changes.finished)
        self._touched.clear()
        self._unsaved = False
        self._open_saved = {ClientOrderId(item["order"]["client_order_id"]) for item in changes.core["open"]}

    def changes(self) -> PaperChanges:
        """Return the account core plus the fills and finished orders not saved yet (``persist``)."""
        finished: list[dict[str, Any]] = []
        opened_now = {o.client_order_id for o in self._ledger.open_orders()}
        # An order that left the open list finished, touched or not (the ledger may expire one itself).
        candidates = self._touched | (self._open_saved - opened_now)
        for cid in sorted(candidates):  # sorted: the same changes always get the same numbers
            order = self._find(cid)
            if order is not None and order.status.is_terminal:
                finished.append({"order": codec.encode(order), "request": codec.encode(self._requests[cid])})
        opened = [{"order": codec.encode(o), "request": codec.encode(self._requests[o.client_order_id])}
                  for o in self._ledger.open_orders()]
        core = {
            "version": codec.CORE_VERSION,
            "quote": self._quote,
            "now": self._now.isoformat(),
            "balances": {a: str(b.total) for a, b in self._ledger.balances().items()},
            "open": opened,
            "prices": {s: str(p) for s, p in self._prices.items()},
            "contracts": self._contracts(),
            "funding": self._funding.encode(),
            "liquidations": self._liquidations(),
        }
        fills = [codec.encode(f) for f in self._fills[self._saved_fills:]]
        return PaperChanges(core, self._saved_fills, fills, self._saved_orders, finished)

    def restore_saved(self, core: Mapping[str, Any], finished: list[Mapping[str, Any]],
                      fills: list[Mapping[str, Any]]) -> None:
        """Restore from what ``changes`` saved over time (the core, every finished order, every fill)."""
        if core.get("version") == codec.STATE_VERSION:  # a whole snapshot from before incremental saving
            self.restore(core)
            self._saved_fills = self._saved_orders = 0  # none of it is stored as items yet
            self._touched = {cid for cid, order in self._done.items() if order.status.is_terminal}
            self._open_saved = set()
            return
        if core.get("version") != codec.CORE_VERSION:
            raise DataError(f"paper state version {core.get('version')} is not {codec.CORE_VERSION}")
        items = [*finished, *core["open"]]
        self.restore({
            "version": codec.STATE_VERSION, "quote": core["quote"], "now": core["now"],
            "balances": core["balances"], "prices": core["prices"], "fills": list(fills),
            "contracts": core.get("contracts", {}), "funding": core.get("funding", {}),
            "liquidations": core.get("liquidations", {}),
            "requests": [item["request"] for item in items], "orders": [item["order"] for item in items],
        })
        self._saved_fills, self._saved_orders = len(fills), len(finished)
        self._touched = set()
        self._open_saved = {ClientOrderId(item["order"]["client_order_id"]) for item in core["open"]}

    def snapshot(self) -> dict[str, Any]:
        """Return the whole account as JSON-ready plain data."""
        orders = [self._find(cid) for cid in self._requests]
        return {
            "version": codec.STATE_VERSION,
            "quote": self._quote,
            "now": self._now.isoformat(),
            "balances": {a: str(b.total) for a, b in self._ledger.balances().items()},
            "requests": [codec.encode(r) for r in self._requests.values()],
            "orders": [codec.encode(o) for o in orders if o is not None],
            "fills": [codec.encode(f) for f in self._fills],
            "prices": {s: str(p) for s, p in self._prices.items()},
            "contracts": self._contracts(),
            "funding": self._funding.encode(),
            "liquidations": self._liquidations(),
        }

    def _liquidations(self) -> dict[str, list[str]]:
        return {s: [str(v) for v in values] for s, values in self._ledger.liquidations().items()}

    def _contracts(self) -> dict[str, list[str]]:
        return {s: [str(v) for v in values] for s, values in self._ledger.contracts().items()}

    def restore(self, data: Mapping[str, Any]) -> None:
        """Replace the account with a ``snapshot()``: open orders are re-placed and lock the same funds."""
        if data.get("version") != codec.STATE_VERSION:
            raise DataError(f"paper state version {data.get('version')} is not {codec.STATE_VERSION}")
        self._ledger = self._new_ledger({a: Decimal(v) for a, v in data["balances"].items()})
        for symbol, (held, entry, margin) in data.get("contracts", {}).items():  # swap positions
            self._ledger.restore_contract(Symbol(symbol), Decimal(held), Decimal(entry), Decimal(margin))
        for symbol, (held, price) in data.get("liquidations", {}).items():  # not reported to the engine yet
            self._ledger.restore_liquidation(Symbol(symbol), Decimal(held), Decimal(price))
        # Prices fed before the restore (a resumed replay's warm-up candles) are newer than the saved
        # ones, which are only as fresh as the last fill: keep them, and never move the time back.
        self._now = max(self._now, datetime.fromisoformat(data["now"]))
        self._prices = {**{Symbol(s): Decimal(p) for s, p in data["prices"].items()}, **self._prices}
        self._fills = [codec.decode_fill(f) for f in data["fills"]]
        self._funding.restore(data.get("funding", {}))
        self._requests = {}
        self._done = {}
        requests = {r["client_order_id"]: codec.decode_request(r) for r in data["requests"]}
        for raw in data["orders"]:
            order = codec.decode_order(raw)
            request = requests[order.client_order_id]
            self._requests[order.client_order_id] = request
            if order.status.is_terminal:
                self._done[order.client_order_id] = order
            else:  # a triggered stop-limit rests as a limit: re-place it as what it is now
                self._ledger.place(_as_resting(request, order), order.updated_at or self._now)


def _as_resting(request: OrderRequest, order: Order) -> OrderRequest:
    return replace(request, type=order.type, price=order.price, trigger_price=order.trigger_price)
