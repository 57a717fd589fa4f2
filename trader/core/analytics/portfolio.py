"""Basket valuation and the rebalancing report: pure functions over holdings and priced assets.

Per asset, per category and per basket: cost, value, PnL, PnL % (a fraction), weight and drift from
the target weight. An asset without any price is listed as unpriced and left out of the value, PnL
and weight totals (never valued at zero); an asset priced at a stale price is valued and flagged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from trader.core.domain.basket import Basket
from trader.core.domain.money import ZERO, quantize_down
from trader.ports.portfolio import Holding

TOP_MOVERS = 5


@dataclass(frozen=True, slots=True)
class AssetPrice:
    """A price used to value an asset: where it came from, when, and whether it is older than its limit."""

    price: Decimal
    source: str
    at: datetime
    stale: bool


@dataclass(frozen=True, slots=True)
class AssetValue:
    """One asset of a valued basket; money in the basket's quote, ``pnl_fraction``/weights as fractions."""

    symbol: str
    category: str
    quantity: Decimal
    cost: Decimal
    price: AssetPrice | None
    value: Decimal | None  # of what is still held
    proceeds: Decimal  # what the sold part brought back (fees deducted)
    pnl: Decimal | None  # value + proceeds - cost
    pnl_fraction: Decimal | None
    weight: Decimal | None
    target: Decimal
    drift: Decimal | None
    stale: bool  # valued at a price older than its limit


@dataclass(frozen=True, slots=True)
class CategoryValue:
    """The assets of one category added up (priced assets only); ``stale`` counts stale-priced ones."""

    id: str
    title: str
    cost: Decimal
    value: Decimal
    pnl: Decimal
    pnl_fraction: Decimal | None
    weight: Decimal | None
    target: Decimal
    drift: Decimal | None
    stale: int


@dataclass(frozen=True, slots=True)
class BasketValuation:
    """A valued basket: totals over the priced assets, the categories, the assets and the movers."""

    name: str
    quote: str
    at: datetime
    cost: Decimal
    value: Decimal
    proceeds: Decimal  # what sold parts brought back (stops, take-profits, closes), fees deducted
    pnl: Decimal  # value + proceeds - cost
    pnl_fraction: Decimal | None
    assets: tuple[AssetValue, ...]
    categories: tuple[CategoryValue, ...]
    best: tuple[AssetValue, ...]
    worst: tuple[AssetValue, ...]
    stale: tuple[str, ...]  # assets valued at a stale price
    unpriced: tuple[str, ...]  # held assets without any price (left out of the totals)


def _fraction(part: Decimal, whole: Decimal) -> Decimal | None:
    return part / whole if whole != 0 else None


def value_basket(basket: Basket, holdings: Iterable[Holding], prices: Mapping[str, AssetPrice],
                 at: datetime) -> BasketValuation:
    """Value ``basket`` from its holdings at ``prices`` (by asset); ``at`` is when it was valued."""
    quantity: dict[str, Decimal] = {a.symbol: ZERO for a in basket.assets}
    cost: dict[str, Decimal] = dict(quantity)
    proceeds: dict[str, Decimal] = dict(quantity)
    for h in holdings:
        quantity[h.asset] = quantity.get(h.asset, ZERO) + h.quantity
        cost[h.asset] = cost.get(h.asset, ZERO) + h.cost
        proceeds[h.asset] = proceeds.get(h.asset, ZERO) + h.proceeds
    values = {s: prices[s].price * q for s, q in quantity.items() if s in prices}
    # sold out: nothing held is worth nothing, priced or not (its result is the proceeds)
    values.update({s: ZERO for s, q in quantity.items() if q == 0 and proceeds[s] != 0})
    total_value = sum(values.values(), ZERO)
    rows: list[AssetValue] = []
    for symbol, qty in quantity.items():
        spec = basket.asset(symbol)
        target = spec.weight if spec is not None else ZERO
        value = values.get(symbol)
        pnl = value + proceeds[symbol] - cost[symbol] if value is not None else None
        weight = _fraction(value, total_value) if value is not None else None
        rows.append(AssetValue(
            symbol, spec.category if spec is not None else "other", qty, cost[symbol], prices.get(symbol),
            value, proceeds[symbol], pnl, _fraction(pnl, cost[symbol]) if pnl is not None else None,
            weight, target, weight - target if weight is not None else None,
            symbol in prices and prices[symbol].stale))
    priced = [r for r in rows if r.value is not None]
    total_cost = sum((r.cost for r in priced), ZERO)
    total_proceeds = sum((r.proceeds for r in priced), ZERO)
    total_pnl = total_value + total_proceeds - total_cost
    movers = sorted((r for r in priced if r.pnl_fraction is not None),
                    key=lambda r: (r.pnl_fraction, r.symbol))
    return BasketValuation(
        basket.name, basket.quote, at, total_cost, total_value, total_proceeds, total_pnl,
        _fraction(total_pnl, total_cost), tuple(rows),
        _categories(basket, rows, total_value), tuple(reversed(movers[-TOP_MOVERS:])),
        tuple(movers[:TOP_MOVERS]), tuple(r.symbol for r in rows if r.stale),
        tuple(r.symbol for r in rows if r.price is None and r.quantity > 0))


def _categories(basket: Basket, rows: list[AssetValue], total: Decimal) -> tuple[CategoryValue, ...]:
    found = []
    for category in basket.categories:
        mine = [r for r in rows if r.category == category.id]
        priced = [r for r in mine if r.value is not None]
        cost = sum((r.cost for r in priced), ZERO)
        value = sum((r.value or ZERO for r in priced), ZERO)
        pnl = sum((r.pnl or ZERO for r in priced), ZERO)
        target = sum((r.target for r in mine), ZERO)
        weight = _fraction(value, total) if priced else None
        found.append(CategoryValue(category.id, category.title, cost, value, pnl,
                                   _fraction(pnl, cost), weight, target,
                                   weight - target if weight is not None else None,
                                   sum(1 for r in mine if r.stale)))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class MarketRules:
    """What an order in one asset must respect: the venue's steps and minimums, and its taker fee."""

    amount_step: Decimal
    min_amount: Decimal
    min_cost: Decimal
    fee: Decimal
    listed: bool = True


@dataclass(frozen=True, slots=True)
class RebalanceLine:
    """One suggested trade: ``side`` buy/sell, ``quantity`` rounded to the step, its value and fee.

    ``skipped`` says why no order is suggested (below the minimum, no price, stale price, ...).
    """

    symbol: str
    side: str
    quantity: Decimal
    value: Decimal
    fee: Decimal
    current: Decimal
    target: Decimal
    skipped: str = ""


@dataclass(frozen=True, slots=True)
class RebalancePlan:
    """What to buy and sell to return ``basket`` to its target weights (a report; nothing is traded)."""

    basket: str
    quote: str
    value: Decimal
    lines: tuple[RebalanceLine, ...]
    buys: Decimal
    sells: Decimal
    fees: Decimal


def rebalance(valuation: BasketValuation, rules: Mapping[str, MarketRules],
              default: MarketRules) -> RebalancePlan:
    """Return the trades that bring every priced asset back to its target weight of today's value.

    Each trade is rounded down to the asset's amount step and dropped (kept, with the reason) when it
    is below the venue's minimum amount or cost; the fee is the taker fee on the trade's value. Stale
    or missing prices give no order: a trade sized from an old price would be wrong.
    """
    lines: list[RebalanceLine] = []
    for asset in valuation.assets:
        target_value = valuation.value * asset.target
        current = asset.value if asset.value is not None else ZERO
        if asset.price is None or asset.stale:
            why = "no price" if asset.price is None else "stale price"
            lines.append(RebalanceLine(asset.symbol, "-", ZERO, ZERO, ZERO, current, target_value, why))
            continue
        rule = rules.get(asset.symbol, default)
        delta = target_value - current
        side = "buy" if delta > 0 else "sell"
        quantity = quantize_down(abs(delta) / asset.price.price, rule.amount_step)
        value = quantity * asset.price.price
        if quantity == 0 or quantity < rule.min_amount or value < rule.min_cost:
            lines.append(RebalanceLine(asset.symbol, side, ZERO, ZERO, ZERO, current, target_value,
                                       "below the minimum order"))
            continue
        lines.append(RebalanceLine(asset.symbol, side, quantity, value, value * rule.fee, current,
                                   target_value, "" if rule.listed else "not listed on the exchange"))
    trades = [line for line in lines if not line.skipped or line.quantity > 0]
    return RebalancePlan(
        valuation.name, valuation.quote, valuation.value,
        tuple(sorted(lines, key=lambda line: (line.quantity == 0, -line.value, line.symbol))),
        sum((t.value for t in trades if t.side == "buy"), ZERO),
        sum((t.value for t in trades if t.side == "sell"), ZERO),
        sum((t.fee for t in trades), ZERO))
