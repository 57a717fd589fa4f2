"""MarketSpec and Capabilities from ccxt's market structures and ``has[...]`` flags.

Per-venue facts ccxt does not declare in ``has`` live in VENUE_FACTS (freqtrade's ``_ft_has`` idea), so
no code branches on the exchange name elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from trader.core.domain.futures import DEFAULT_TIERS, FuturesTerms, MarginTier, tiers_from
from trader.core.domain.ids import Symbol
from trader.core.domain.market import Capabilities, MarketSpec
from trader.core.domain.money import ZERO, D
from trader.core.errors import DataError

TICK_SIZE = 4  # ccxt precisionMode constants (ccxt.base.decimal_to_precision)
DECIMAL_PLACES = 2
SIGNIFICANT_DIGITS = 3
_STOP_FLAGS = ("createStopOrder", "createStopLossOrder", "createStopMarketOrder", "createTriggerOrder")


class Bracket(StrEnum):
    """How the adapter holds stop + take-profit together on a venue (docs/exchanges.md's table)."""

    SWAP = "stop, take-profit swapped in near the target"  # one protective order at a time
    ORDER_LIST = "OCO order list"  # Binance spot orderList/oco, outside ccxt's unified API
    ALGO_OCO = "OCO algo order"  # OKX: ccxt's unified stopLossPrice + takeProfitPrice
    CONDITIONAL_CLOSE = "stop as a conditional close on the entry, take-profit swapped in near the target"
    ATTACHED_TPSL = "TP/SL on a limit entry (an OCO the venue makes); market entries: the swap"
    WATCHED = "engine-watched"  # no native stop at all


@dataclass(frozen=True, slots=True)
class VenueFacts:
    """What we know about a venue beyond ccxt's ``has``: how it holds brackets, extra params."""

    oco: bool = False  # the adapter places an OCO (``bracket`` says through which API)
    bracket: Bracket = Bracket.SWAP
    lacks: str = ""  # the bracket forms the venue has that the adapter does not use yet
    attached: str = ""  # the entry carries its protection: "close" (Kraken close[...]) or "tpsl" (Bybit)
    stop_params: tuple[tuple[str, str], ...] = ()  # extra params for trigger orders, e.g. OKX tdMode
    trigger_book: tuple[tuple[str, str], ...] = ()  # params listing a separate trigger-order book
    trigger_client_id: str = ""  # the field carrying our client id on trigger orders, when not the usual
    trigger_lookup: tuple[tuple[str, str], ...] = ()  # params reading/cancelling a trigger order, if not
    lookup_params: tuple[tuple[str, Any], ...] = ()  # extra params on every order lookup
    client_id_key: str = "clientOrderId"  # the param that looks an order up by our client id
    uuid_client_ids: bool = False  # the venue takes client ids as UUIDs (Kraken): see wire_ids
    lookup_in_lists: bool = False  # find by client id in the open, then closed, orders (no direct query)
    # Perpetuals: OKX keeps the margin mode per order (``tdMode``, ccxt's ``marginMode``) and sets the
    # leverage per instrument and margin mode in one request; Binance has a margin-type setting.
    margin_mode_per_order: bool = False
    funding_page: int = 1000  # the largest page of the venue's funding history (Binance income)
    trades_page: int = 500  # the page of trade history asked for
    trades_window: bool = False  # Binance futures: one trade-history request spans at most 7 days
    pages_back: bool = False  # OKX fills and bills: newest first, older pages by the oldest bill id
    # Bybit: trades and funding from one execution list, newest first, at most 7 days a request, paged by
    # cursor; its funding rows carry what the account paid (ccxt passes execFee on as the amount).
    week_windows: bool = False
    # Bybit: ccxt sends a missing order id as the text "None" next to orderLinkId, an id the venue does not
    # know (nothing found); "" is no id at all. Spot and swaps alike: see client_id_lookup.
    blank_order_id: bool = False
    wallet_without_unrealised: bool = False  # Bybit: ccxt's total is walletBalance; add the unrealised PnL
    # Bybit UTA: free margin from the venue's available fields; classic accounts and hedge mode refused
    unified_account: bool = False
    leverage_unchanged: str = ""  # the venue code for "leverage not modified" (Bybit 110043): already set
    # OKX: no all-markets tier call; each perpetual's tiers (public position-tiers) count contracts
    tiers_in_contracts: bool = False
    notes: str = ""


# How Bybit (spot and linear perpetuals) is asked for an order by our client id: one statement for both
_BYBIT_LOOKUP: dict[str, Any] = {"lookup_params": (("acknowledged", True),), "client_id_key": "orderLinkId",
                                 "blank_order_id": True}

VENUE_FACTS: dict[str, VenueFacts] = {
    "binance": VenueFacts(oco=True, bracket=Bracket.ORDER_LIST,
                          lacks="OTO/OTOCO (entry with its bracket in one request)",
                          notes="spot STOP_LOSS(_LIMIT)/TAKE_PROFIT(_LIMIT); OCO as an order list"),
    # Binance USDⓈ-M perpetuals (a swap client): conditional orders live in the algo book (ccxt sends
    # them to /fapi/v1/algoOrder and lists them with ``trigger``); no order lists, so the stop and
    # take-profit are swapped in one at a time.
    "binance:swap": VenueFacts(trigger_book=(("trigger", "true"),), trades_window=True,
                               lacks="OCO (no order list on futures); TP/SL attached to the entry",
                               notes="STOP_MARKET/TAKE_PROFIT_MARKET reduce-only algo orders"),
    # OKX swaps (a swap client): stops are reduce-only ``conditional`` algo orders with ``tdMode`` the
    # strategy's margin mode (never spot's ``cash``); no OCO on the swap path (the swap, as Binance's).
    "okx:swap": VenueFacts(trigger_book=(("trigger", "true"), ("ordType", "conditional")),
                           trigger_client_id="algoClOrdId", margin_mode_per_order=True,
                           funding_page=100, trades_page=100, pages_back=True, tiers_in_contracts=True,
                           lacks="OCO and TP/SL attached to the entry on swaps",
                           notes="reduce-only conditional algo orders, tdMode isolated/cross"),
    # Bybit linear perpetuals (a swap client, unified account): a stop is a reduce-only conditional order
    # (triggerPrice + triggerDirection) in the one order book, found by orderLinkId, which keeps its ids
    # when it triggers; the margin mode is account-wide.
    "bybit:swap": VenueFacts(**_BYBIT_LOOKUP, funding_page=100, trades_page=100, week_windows=True,
                             leverage_unchanged="110043",
                             wallet_without_unrealised=True, unified_account=True,
                             lacks="OCO and TP/SL attached to the entry on perpetuals",
                             notes="reduce-only conditional orders (triggerPrice, triggerDirection)"),
    "okx": VenueFacts(oco=True, bracket=Bracket.ALGO_OCO,
                      lacks="TP/SL attached to the entry (attachAlgoOrds)",
                      stop_params=(("tdMode", "cash"),),
                      trigger_book=(("trigger", "true"), ("ordType", "conditional,oco")),
                      trigger_client_id="algoClOrdId", trades_page=100, pages_back=True,
                      notes="trigger/conditional/OCO as algo orders"),
    "kraken": VenueFacts(bracket=Bracket.CONDITIONAL_CLOSE, attached="close",
                         lacks="a take-profit on the entry (one conditional close per order); "
                               "no standalone OCO",
                         uuid_client_ids=True, lookup_in_lists=True,
                         notes="stop-loss and take-profit order types"),
    "bybit": VenueFacts(bracket=Bracket.ATTACHED_TPSL, attached="tpsl",
                        lacks="TP/SL on a spot market entry (limit only; the live engine enters at market); "
                              "no standalone spot OCO",
                        trigger_book=(("orderFilter", "tpslOrder"),),
                        trigger_lookup=(("orderFilter", "tpslOrder"),),
                        **_BYBIT_LOOKUP, notes="spot conditional orders (tpslOrder)"),
    "nobitex": VenueFacts(lacks="orders through ccxt (its own stop_market/stop_limit/OCO unused)",
                          notes="stop_market/stop_limit/OCO in its API; exposed here for market data"),
    "wallex": VenueFacts(lacks="any stop or OCO (limit and market only)",
                         notes="limit and market only: stops are engine-watched"),
}


def client_id_lookup(facts: VenueFacts, client_order_id: str, extra: dict[str, Any] | None = None
                     ) -> tuple[str | None, dict[str, Any]]:
    """Return the (order id, params) ccxt's ``fetch_order`` takes to find an order by our client id."""
    params = {facts.client_id_key: client_order_id, **dict(facts.lookup_params), **(extra or {})}
    return ("" if facts.blank_order_id else None), params


def capabilities_from(has: dict[str, Any], venue: str, market: dict[str, Any] | None = None) -> Capabilities:
    """Return what the venue can hold for us, from ccxt's ``has`` flags and our VENUE_FACTS."""
    facts = VENUE_FACTS.get(venue, VenueFacts())
    can_order = bool(has.get("createOrder"))
    native_stop = can_order and any(bool(has.get(flag)) for flag in _STOP_FLAGS)
    spot = market is None or bool(market.get("spot", True))
    return Capabilities(
        native_stop=native_stop,
        stop_limit=native_stop and bool(has.get("createStopLimitOrder")),
        oco=native_stop and facts.oco,
        attached_stop=can_order and bool(has.get("createOrderWithTakeProfitAndStopLoss")),
        shorting=not spot and bool(market and market.get("contract")),
        attached_bracket=native_stop and spot and bool(facts.attached),
        attached_take_profit=facts.attached == "tpsl",
        attached_limit_only=facts.attached == "tpsl",  # ccxt refuses TP/SL on a spot market order
    )


def step_from_precision(value: Any, precision_mode: int) -> Decimal:
    """Return the step size for a ccxt precision value (tick size or decimal places)."""
    if value is None:
        raise DataError("market has no precision; cannot round orders for it")
    if precision_mode == DECIMAL_PLACES:
        return Decimal(1).scaleb(-int(value))
    if precision_mode == TICK_SIZE:
        return D(value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value))
    raise DataError(f"unsupported precision mode {precision_mode} (significant digits)")


def market_spec_from(
    market: dict[str, Any], has: dict[str, Any], venue: str, precision_mode: int
) -> MarketSpec:
    """Return our MarketSpec for one ccxt market dict."""
    limits = market.get("limits") or {}
    amount_limits = limits.get("amount") or {}
    cost_limits = limits.get("cost") or {}
    precision = market.get("precision") or {}
    max_amount = amount_limits.get("max")
    # A contract market counts in contracts (OKX BTC-USDT-SWAP: 0.01 BTC each); our amounts are in
    # the base asset, so its steps and limits are scaled here and orders converted at the adapter.
    size = contract_size(market)
    return MarketSpec(
        symbol=Symbol(market["symbol"]),
        base=market["base"],
        quote=market["quote"],
        amount_step=step_from_precision(precision.get("amount"), precision_mode) * size,
        price_step=step_from_precision(precision.get("price"), precision_mode),
        min_amount=_dec(amount_limits.get("min")) * size,
        min_cost=_dec(cost_limits.get("min")),
        max_amount=_dec(max_amount) * size if max_amount else None,
        maker_fee=_dec(market.get("maker"), Decimal("0.001")),
        taker_fee=_dec(market.get("taker"), Decimal("0.001")),
        capabilities=capabilities_from(has, venue, market),
        futures=futures_terms_from(market),
    )


def contract_size(market: dict[str, Any]) -> Decimal:
    """Return the base amount of one contract of a ccxt market (1 for spot and Binance USDⓈ-M)."""
    return _dec(market.get("contractSize"), Decimal(1)) if market.get("contract") else Decimal(1)


def futures_terms_from(market: dict[str, Any], tiers: list[dict[str, Any]] | None = None
                       ) -> FuturesTerms | None:
    """Return the terms of a linear perpetual (1x until a strategy sets its leverage); None otherwise.

    ``tiers`` is ccxt's leverage-tier list for the market (``fetch_market_leverage_tiers``); without
    it the steep ``DEFAULT_TIERS`` apply, so missing data makes risk stricter, not looser.
    """
    if not (market.get("swap") and market.get("linear")):
        return None
    limit = ((market.get("limits") or {}).get("leverage") or {}).get("max")
    return FuturesTerms(max_leverage=_dec(limit) if limit else None,
                        tiers=tiers_from_ccxt(tiers) if tiers else DEFAULT_TIERS)


def tiers_from_ccxt(tiers: list[dict[str, Any]]) -> tuple[MarginTier, ...]:
    """Return our margin tiers from ccxt's unified leverage tiers (minNotional, rate, maxLeverage)."""
    ordered = sorted(tiers, key=lambda t: float(t.get("minNotional") or 0))
    brackets = [(_dec(t.get("minNotional")), _dec(t.get("maintenanceMarginRate"))) for t in ordered]
    caps = [_dec(t["maxLeverage"]) if t.get("maxLeverage") else None for t in ordered]
    return tiers_from(brackets, caps)


def _dec(value: Any, default: Decimal = ZERO) -> Decimal:
    if value is None:
        return default
    return D(repr(value) if isinstance(value, float) else str(value))


def bracket_method(venue: str, has: dict[str, Any]) -> Bracket:
    """Return how stop + take-profit are held on the venue: native OCO, the swap, or engine-watched."""
    caps = capabilities_from(has, venue)
    if not caps.native_stop:
        return Bracket.WATCHED
    return VENUE_FACTS.get(venue, VenueFacts()).bracket if caps.oco or caps.attached_bracket else Bracket.SWAP


def capability_row(venue: str, has: dict[str, Any]) -> dict[str, str]:
    """Return one row of the capability table (docs/exchanges.md) for a venue's ``has`` flags."""
    caps = capabilities_from(has, venue)

    def yes(flag: bool) -> str:
        return "yes" if flag else "no"

    return {
        "venue": venue,
        "ohlcv": yes(bool(has.get("fetchOHLCV"))),
        "orders": yes(bool(has.get("createOrder"))),
        "native stop": yes(caps.native_stop),
        "stop-limit": yes(caps.stop_limit),
        "OCO": yes(caps.oco),
        "attached stop": yes(caps.attached_stop),
        "bracket": bracket_method(venue, has).value,
        "lacks": VENUE_FACTS.get(venue, VenueFacts()).lacks or "-",
        "my trades": yes(bool(has.get("fetchMyTrades"))),
        "demo/testnet": yes(bool(has.get("sandbox"))),
        "notes": VENUE_FACTS.get(venue, VenueFacts()).notes,
    }
