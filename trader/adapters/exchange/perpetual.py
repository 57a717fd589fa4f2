"""The perpetual-swap half of CcxtExchange: symbol mapping, settings, the futures wallet, funding.

Strategies, positions and the store name a pair ``BTC/USDT`` whatever the market; a swap client
trades its linear perpetual ``BTC/USDT:USDT``. The mapping happens here, at the venue boundary, both
ways: requests get the perpetual's symbol, orders and fills coming back get the pair's. Before the
first entry on a perpetual its margin mode and leverage are set on the venue (once, idempotently);
a pair no strategy configured is set to 1x isolated rather than left at the venue's default (Binance
starts accounts at 20x cross).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from ccxt.base import errors as ccxt_errors

from trader.adapters.exchange.capabilities import VenueFacts, contract_size, tiers_from_ccxt
from trader.adapters.exchange.ccxt_orders import dec, fill_from_ccxt
from trader.adapters.exchange.client import ACCOUNT_MARGIN_MODE_VENUES
from trader.adapters.exchange.unified_account import available_margin, require_one_way, require_unified
from trader.adapters.exchange.week_windows import walk
from trader.core.domain.account import AccountSnapshot, Balance
from trader.core.domain.candles import datetime_to_ms, ms_to_datetime
from trader.core.domain.futures import MarginTier, swap_symbol
from trader.core.domain.ids import ClientOrderId, Symbol
from trader.core.domain.market import MarketSpec
from trader.core.domain.money import ZERO
from trader.core.domain.orders import Fill
from trader.core.errors import ExchangeError, RetryableError

logger = logging.getLogger(__name__)
T = TypeVar("T")
PerpetualTerms = Mapping[str, tuple[Decimal, str]]  # pair -> (leverage, margin mode)
DEFAULT_TERMS = (Decimal(1), "isolated")
_FUNDING_PAGE = 1000  # Binance's largest income page


def pair_of(symbol: str) -> Symbol:
    """Return the pair a perpetual's unified symbol belongs to: 'BTC/USDT:USDT' -> 'BTC/USDT'."""
    return Symbol(symbol.partition(":")[0])


class PerpetualMixin:
    """Perpetual-swap methods of CcxtExchange (it provides the client, quote and the retried call)."""

    _client: Any
    _swap: bool
    _quote: str
    _perpetual_settings: dict[str, tuple[Decimal, str]]
    _perpetual_terms: PerpetualTerms
    _facts: VenueFacts
    _venue: str
    _unified_checked = False  # a unified account's set-up checked (Bybit; see _check_account)
    _one_way: frozenset[str] = frozenset()  # perpetuals found in one-way position mode

    async def _retried(self, what: str, func: Callable[[], Awaitable[T]]) -> T:
        raise NotImplementedError

    async def _client_id_for(self, symbol: Symbol, order_id: str | None) -> ClientOrderId:
        raise NotImplementedError

    def _venue_symbol(self, symbol: str) -> str:
        """Return the symbol ccxt trades for our pair: its perpetual on a swap client."""
        return swap_symbol(symbol) if self._swap else symbol

    def _our_symbol(self, symbol: str) -> Symbol:
        """Return our pair for a symbol ccxt reported."""
        return pair_of(symbol) if self._swap else Symbol(symbol)

    def _contract_size(self, venue_symbol: str) -> Decimal:
        """Return the base amount of one contract of a perpetual ccxt counts in contracts (else 1).

        OKX's BTC-USDT-SWAP is 0.01 BTC a contract: ccxt's amounts there are contracts, ours base units.
        """
        market = (getattr(self._client, "markets", None) or {}).get(venue_symbol) if self._swap else None
        return contract_size(market) if market else Decimal(1)

    def _order_params(self, symbol: str) -> dict[str, Any]:
        """Return the params every order on a perpetual carries: OKX's margin mode (``tdMode``)."""
        if not (self._swap and self._facts.margin_mode_per_order):
            return {}
        return {"marginMode": self._perpetual_terms.get(pair_of(symbol), DEFAULT_TERMS)[1]}

    async def _prepare_entry(self, symbol: str) -> None:
        """Set the pair's perpetual to its configured leverage and margin mode (once)."""
        leverage, mode = self._perpetual_terms.get(pair_of(symbol), self._default_terms())
        await self.prepare_perpetual(symbol, leverage, mode)

    def _default_terms(self) -> tuple[Decimal, str]:
        """Return the terms of a pair no strategy configures: 1x, isolated unless the account holds one
        margin mode for all perpetuals (Bybit), which then stays the strategies' (the start-up check
        makes them agree)."""
        if self._venue in ACCOUNT_MARGIN_MODE_VENUES and self._perpetual_terms:
            return Decimal(1), next(iter(self._perpetual_terms.values()))[1]
        return DEFAULT_TERMS

    async def prepare_perpetual(self, symbol: str, leverage: Decimal, margin_mode: str) -> None:
        """Set a perpetual's margin mode and leverage on the venue before its first order, once.

        Idempotent: a setting already made here is not sent again, and a venue that answers "no need
        to change" (Binance -4046, swallowed by ccxt) counts as set.
        """
        symbol = swap_symbol(symbol)
        if self._perpetual_settings.get(symbol) == (leverage, margin_mode):
            return
        client = self._client
        if self._facts.margin_mode_per_order:  # OKX: one set-leverage per instrument and margin mode
            await self._require_net_mode(symbol)
            await self._retried("set_leverage", lambda: client.set_leverage(
                int(leverage), symbol, {"marginMode": margin_mode}))
            self._perpetual_settings[symbol] = (leverage, margin_mode)
            return

        async def set_margin_mode() -> Any:
            try:
                return await client.set_margin_mode(margin_mode, symbol)
            except ccxt_errors.MarginModeAlreadySet:  # Binance -4046: the venue has it already
                return None

        async def set_leverage() -> Any:
            try:
                return await client.set_leverage(int(leverage), symbol)
            except ccxt_errors.BadRequest as exc:  # Bybit 110043 "leverage not modified": it is set
                if self._facts.leverage_unchanged and self._facts.leverage_unchanged in str(exc):
                    return None
                raise

        await self._check_account([symbol])  # Bybit: a pair no strategy configures is checked here
        # Bybit's unified account sets the margin mode account-wide (ccxt: /v5/account/set-margin-mode)
        await self._retried("set_margin_mode", set_margin_mode)
        await self._retried("set_leverage", set_leverage)
        self._perpetual_settings[symbol] = (leverage, margin_mode)

    async def _require_net_mode(self, symbol: str) -> None:
        """Refuse to trade an OKX account in long/short position mode (orders carry no ``posSide``)."""
        mode: dict[str, Any] = await self._retried(
            "fetch_position_mode", lambda: self._client.fetch_position_mode(symbol))
        if mode.get("hedged"):
            raise ExchangeError(
                f"{symbol}: the account is in long/short (hedge) position mode; one-way (net) is needed",
                user_message="The exchange account is in long/short position mode: switch it to one-way "
                             "(net) mode in the account settings, then try again.")

    async def _check_account(self, symbols: Iterable[str]) -> None:
        """Refuse a Bybit account that is classic, or holds one of ``symbols`` in hedge mode (once each).

        Run by the first balance read (the start-up's first signed call) for the configured pairs and
        before the first entry on any other pair; switching the mode is left to the user (docs/futures.md).
        """
        if not self._facts.unified_account:
            return
        if not self._unified_checked:
            await require_unified(self._client, self._retried)
            self._unified_checked = True
        for venue_symbol in sorted({swap_symbol(s) for s in symbols} - self._one_way):
            await require_one_way(self._client, self._retried, venue_symbol)
            self._one_way |= {venue_symbol}

    async def margin_tiers(self, symbol: str) -> tuple[MarginTier, ...]:
        """Return the venue's maintenance-margin tiers of a perpetual (ccxt leverage tiers).

        OKX's tiers (public position-tiers, per margin mode) bound the position in contracts, which ccxt
        passes on as ``minNotional``: they are turned into quote at the contract size and the last
        price, so a later price move shifts the floors a little (the tiers are read at start-up).
        """
        client, venue_symbol = self._client, swap_symbol(symbol)
        params: dict[str, Any] = {}
        if self._facts.margin_mode_per_order:
            params["marginMode"] = self._perpetual_terms.get(pair_of(symbol), DEFAULT_TERMS)[1]
        raw: list[dict[str, Any]] = await self._retried(
            "fetch_market_leverage_tiers", lambda: client.fetch_market_leverage_tiers(venue_symbol, params))
        if self._facts.tiers_in_contracts:
            ticker: dict[str, Any] = await self._retried("fetch_ticker",
                                                          lambda: client.fetch_ticker(venue_symbol))
            per_contract = self._contract_size(venue_symbol) * (dec(ticker.get("last")) or ZERO)
            raw = [{**t, "minNotional": (dec(t.get("minNotional")) or ZERO) * per_contract} for t in raw]
        return tiers_from_ccxt(raw)

    async def funding_rates(self, symbol: str, since: datetime, limit: int = 1000
                            ) -> list[tuple[datetime, Decimal]]:
        """Return a perpetual's funding rates from ``since``, oldest first (backtest history)."""
        client = self._client
        raw = await self._retried("fetch_funding_rate_history", lambda: client.fetch_funding_rate_history(
            swap_symbol(symbol), datetime_to_ms(since), limit))
        return [(ms_to_datetime(int(r["timestamp"])), dec(r["fundingRate"]) or ZERO) for r in raw]

    async def funding_paid(self, symbol: str, since: datetime) -> list[tuple[datetime, Decimal]]:
        """Return the funding the account paid on a perpetual since ``since`` (negative: received), paged."""
        client = self._client
        if self._facts.pages_back:
            return _paid(await self._funding_pages_back(swap_symbol(symbol), datetime_to_ms(since)))
        if self._facts.week_windows:
            weeks = await self._week_walk(client.fetch_funding_history, symbol, datetime_to_ms(since),
                                          self._facts.funding_page)
            # Bybit's execFee of a Funding execution is what the account paid (its feeRate carries the
            # side). ccxt 4.5 passes it on as the amount unchanged, against its own income convention
            # (ccxt issue 26404): read the venue's field, so a ccxt fix cannot flip our sign.
            return sorted((ms_to_datetime(int(r["timestamp"])), dec((r.get("info") or {}).get("execFee"))
                           or ZERO) for r in weeks)
        start, rows = datetime_to_ms(since), {}
        while True:
            page: list[dict[str, Any]] = await self._retried(
                "fetch_funding_history", partial(client.fetch_funding_history, swap_symbol(symbol), start,
                                                 _FUNDING_PAGE))
            rows.update({str(r.get("id") or r["timestamp"]): r for r in page})
            if len(page) < _FUNDING_PAGE:
                break
            start = max(int(r["timestamp"]) for r in page) + 1
        return _paid(list(rows.values()))

    async def _week_walk(self, fetch: Callable[..., Awaitable[list[dict[str, Any]]]], symbol: str,
                         since_ms: int, page_size: int) -> list[dict[str, Any]]:
        """Return a perpetual's history rows from ``since_ms`` to the venue's time, week by week (Bybit)."""
        horizon = int(await self._retried("fetch_time", self._client.fetch_time))
        venue_symbol = swap_symbol(symbol)

        async def page(start: int, end: int, params: dict[str, Any]) -> list[dict[str, Any]]:
            return await self._retried("fetch_history", partial(
                fetch, venue_symbol, start, page_size, {**params, "endTime": end}))

        return await walk(page, since_ms, horizon, page_size)

    async def _windowed_fills(self, symbol: Symbol, since: datetime) -> list[Fill]:
        """Return our executions on a perpetual since ``since`` from a venue answering a week at a time."""
        rows = await self._week_walk(self._client.fetch_my_trades, symbol, datetime_to_ms(since),
                                     self._facts.trades_page)
        fills = []
        for trade in rows:
            order_id = trade.get("order")
            cid = await self._client_id_for(symbol, str(order_id) if order_id is not None else None)
            fill = fill_from_ccxt(trade, cid)
            fills.append(replace(fill, symbol=self._our_symbol(fill.symbol),
                                 amount=fill.amount * self._contract_size(fill.symbol)))
        return sorted(fills, key=lambda f: (f.timestamp, f.trade_id))

    async def _funding_pages_back(self, venue_symbol: str, since_ms: int) -> list[dict[str, Any]]:
        """Return a perpetual's funding bills from ``since_ms`` on a venue paging newest first (OKX).

        OKX's bills are not per instrument: ccxt is asked for all the swap bills (so a short page
        means the last one) from ``begin``, older pages by ``after`` = the oldest bill id, and the
        perpetual's are kept.
        """
        client, page_size = self._client, self._facts.funding_page
        rows: dict[str, dict[str, Any]] = {}
        params: dict[str, Any] = {"begin": since_ms}
        while True:
            page: list[dict[str, Any]] = await self._retried("fetch_funding_history", partial(
                client.fetch_funding_history, None, None, page_size, dict(params)))
            rows.update({str(r["id"]): r for r in page if r.get("symbol") == venue_symbol})
            if len(page) < page_size:
                return [r for r in rows.values() if int(r["timestamp"]) >= since_ms]
            params["after"] = min((str(r["id"]) for r in page), key=int)

    async def _load_tiers(self, specs: dict[Symbol, MarketSpec]) -> None:
        """Put the venue's maintenance-margin tiers into each perpetual's terms (one request for all).

        Without keys, or when the venue refuses, the steep default tiers stay: missing data makes risk
        stricter, never looser. A venue that does not answer fails the load (retried by the caller).
        """
        client = self._client
        if self._facts.tiers_in_contracts:  # OKX: one public request per traded perpetual
            await self._load_market_tiers(specs)
            return
        if not getattr(client, "apiKey", None) or not client.has.get("fetchLeverageTiers"):
            return
        try:
            tiers: dict[str, Any] = await self._retried("fetch_leverage_tiers", client.fetch_leverage_tiers)
        except RetryableError:
            raise
        except ExchangeError as exc:
            logger.warning("margin tiers unavailable (%s); using the default tiers", exc)
            return
        for symbol, rows in tiers.items():
            spec = specs.get(pair_of(symbol))
            if spec is not None and spec.futures is not None and rows:
                specs[spec.symbol] = replace(spec, futures=replace(spec.futures, tiers=tiers_from_ccxt(rows)))

    async def _load_market_tiers(self, specs: dict[Symbol, MarketSpec]) -> None:
        """Put each configured perpetual's tiers (``margin_tiers``) into its terms; defaults on a refusal."""
        for pair in sorted(self._perpetual_terms):
            spec = specs.get(Symbol(pair))
            if spec is None or spec.futures is None:
                continue
            try:
                tiers = await self.margin_tiers(pair)
            except RetryableError:
                raise
            except ExchangeError as exc:
                logger.warning("%s: margin tiers unavailable (%s); using the default tiers", pair, exc)
                continue
            if tiers:
                specs[spec.symbol] = replace(spec, futures=replace(spec.futures, tiers=tiers))

    async def _swap_balances(self) -> AccountSnapshot:
        """Return the futures wallet: equity = margin balance (wallet + unrealised), free = available
        (on a Bybit unified account: the least the venue's fields say is available, unified_account.py).

        ``positions`` carries the venue's signed position per pair (shorts negative) for
        reconciliation; exposure is their absolute notional at the mark price.
        """
        await self._check_account(self._perpetual_terms)
        raw: dict[str, Any] = await self._retried("fetch_balance", self._client.fetch_balance)
        own = raw.get(self._quote) or {}
        free, used = dec(own.get("free")) or ZERO, dec(own.get("used")) or ZERO
        total = dec(own.get("total")) or free + used
        if self._facts.unified_account:  # what the venue would accept: unrealised losses come off
            free = available_margin(raw.get("info") or {}, self._quote, free)
        rows: list[dict[str, Any]] = await self._retried("fetch_positions", self._client.fetch_positions)
        positions: dict[str, Decimal] = {}
        exposure = unrealised = ZERO
        for row in rows:
            contracts = (dec(row.get("contracts")) or ZERO) * (dec(row.get("contractSize")) or Decimal(1))
            if not contracts or not str(row.get("symbol", "")).endswith(f":{self._quote}"):
                continue
            signed = -contracts if row.get("side") == "short" else contracts
            pair = pair_of(str(row["symbol"]))
            positions[pair] = positions.get(pair, ZERO) + signed
            exposure += abs(dec(row.get("notional")) or contracts * (dec(row.get("markPrice")) or ZERO))
            unrealised += dec(row.get("unrealizedPnl")) or ZERO
        if self._facts.wallet_without_unrealised:  # equity is the margin balance on every venue
            total += unrealised
        balances = {self._quote: Balance(self._quote, free, total - free)}
        return AccountSnapshot(self._quote, total, free, exposure, balances, positions=positions)


def _paid(rows: list[dict[str, Any]]) -> list[tuple[datetime, Decimal]]:
    """Return ccxt funding-history rows as (time, paid), oldest first."""
    # ccxt reports the income: positive when received, so the amount paid is its negative
    return sorted((ms_to_datetime(int(r["timestamp"])), -(dec(r["amount"]) or ZERO)) for r in rows)
