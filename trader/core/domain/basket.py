"""Baskets as data: a named list of assets, each in a category with a target weight or an initial amount.

``parse_basket`` reads the TOML format documented in docs/portfolio.md and checks it whole, naming
every problem with the file it came from (one ``InputError``, one line per problem). Every money and
weight value is a ``Decimal`` (TOML floats are parsed as Decimal, never as binary floats).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from trader.core.domain.money import ONE, ZERO
from trader.core.errors import InputError

_SYMBOL = re.compile(r"^[A-Z0-9]{1,15}$", re.ASCII)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$", re.ASCII)
_COIN_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$", re.ASCII)
WEIGHT_TOLERANCE = Decimal("0.0001")  # weights written by hand to 4 places may miss 1 by rounding


@dataclass(frozen=True, slots=True)
class Category:
    """A basket category: its id (used by assets), a title and a one-line description."""

    id: str
    title: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class BasketAsset:
    """One asset of a basket: ``amount`` is the initial quote amount, ``weight`` the target (sums to 1)."""

    symbol: str
    category: str
    weight: Decimal
    amount: Decimal | None = None
    coingecko_id: str | None = None


@dataclass(frozen=True, slots=True)
class Basket:
    """A named basket; ``quote`` is the currency its amounts and values are in."""

    name: str
    quote: str
    assets: tuple[BasketAsset, ...]
    categories: tuple[Category, ...]
    description: str = ""

    def asset(self, symbol: str) -> BasketAsset | None:
        """Return the asset with ``symbol`` (any case), or None."""
        wanted = symbol.upper()
        return next((a for a in self.assets if a.symbol == wanted), None)

    def category(self, category_id: str) -> Category:
        """Return the category with ``category_id``."""
        return next(c for c in self.categories if c.id == category_id)

    @property
    def coingecko_ids(self) -> dict[str, str]:
        """Return the ticker -> CoinGecko id overrides the basket names."""
        return {a.symbol: a.coingecko_id for a in self.assets if a.coingecko_id}

    @property
    def total_amount(self) -> Decimal | None:
        """Return the sum of the initial amounts (None when the basket gives weights only)."""
        amounts = [a.amount for a in self.assets]
        if any(a is None for a in amounts):
            return None
        return sum((a for a in amounts if a is not None), ZERO)


def parse_basket(text: str, origin: str) -> Basket:
    """Parse one basket file; InputError lists every problem, each prefixed with ``origin``."""
    try:
        doc = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise _bad(origin, [f"not valid TOML: {exc}"]) from None
    problems: list[str] = []
    head = doc.get("basket")
    if not isinstance(head, dict):
        raise _bad(origin, ["missing the [basket] table (name, quote, optional amount)"])
    name = str(head.get("name", ""))
    if not _NAME.match(name):
        problems.append(f"[basket] name {name!r}: use 1-40 lower-case letters, digits, '-' or '_'")
    quote = str(head.get("quote", "USD")).upper()
    if not _SYMBOL.match(quote):
        problems.append(f"[basket] quote {quote!r} is not a currency code")
    default_amount = _decimal(head.get("amount"), "[basket] amount", problems)
    categories = _categories(doc.get("categories"), problems)
    raw_assets = doc.get("assets")
    if not isinstance(raw_assets, list) or not raw_assets:
        problems.append("no [[assets]]: a basket needs at least one asset")
        raw_assets = []
    known = {c.id for c in categories}
    parsed = [_asset(i, raw, known, default_amount, problems) for i, raw in enumerate(raw_assets, 1)]
    assets = [a for a in parsed if a is not None]
    seen: set[str] = set()
    for a in assets:
        if a.symbol in seen:
            problems.append(f"asset {a.symbol} is listed twice")
        seen.add(a.symbol)
    weighted = _weights(assets, problems)
    if problems:
        raise _bad(origin, problems)
    return Basket(name, quote, tuple(weighted), tuple(categories), str(head.get("description", "")))


def _bad(origin: str, problems: list[str]) -> InputError:
    lines = "\n".join(f"  {origin}: {p}" for p in problems)
    return InputError(f"bad basket file {origin}:\n{lines}",
                      user_message=f"Bad basket file {origin}:\n{lines}")


def _decimal(value: Any, what: str, problems: list[str]) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        problems.append(f"{what}: {value!r} is not a number")
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        problems.append(f"{what}: {value!r} is not a number")
        return None
    if not number.is_finite() or number <= 0:
        problems.append(f"{what}: {value!r} must be above 0")
        return None
    return number


def _categories(raw: Any, problems: list[str]) -> list[Category]:
    if not isinstance(raw, list) or not raw:
        problems.append("no [[categories]]: declare each category (id, title, description)")
        return []
    found: list[Category] = []
    for i, entry in enumerate(raw, 1):
        if not isinstance(entry, dict) or not _NAME.match(str(entry.get("id", ""))):
            problems.append(f"category #{i}: needs an id of lower-case letters, digits, '-' or '_'")
            continue
        category = Category(str(entry["id"]), str(entry.get("title", entry["id"])),
                            str(entry.get("description", "")))
        if any(c.id == category.id for c in found):
            problems.append(f"category {category.id} is declared twice")
        found.append(category)
    return found


def _asset(index: int, raw: Any, categories: set[str], default_amount: Decimal | None,
           problems: list[str]) -> BasketAsset | None:
    where = f"asset #{index}"
    if not isinstance(raw, dict):
        problems.append(f"{where}: not a table")
        return None
    symbol = str(raw.get("symbol", "")).upper()
    if not _SYMBOL.match(symbol):
        problems.append(f"{where}: symbol {raw.get('symbol')!r} is not a ticker (e.g. BTC)")
        return None
    where = f"asset {symbol}"
    unknown = sorted(set(raw) - {"symbol", "category", "coingecko_id", "weight", "amount"})
    if unknown:
        problems.append(f"{where}: unknown key(s) {', '.join(unknown)}")
    category = str(raw.get("category", ""))
    if category not in categories:
        problems.append(f"{where}: category {category!r} is not declared in [[categories]]")
    coin = raw.get("coingecko_id")
    if coin is not None and not _COIN_ID.match(str(coin)):
        problems.append(f"{where}: coingecko_id {coin!r} is not a CoinGecko id (e.g. bitcoin)")
    weight = _decimal(raw.get("weight"), f"{where} weight", problems)
    amount = _decimal(raw.get("amount"), f"{where} amount", problems)
    if weight is not None and amount is not None:
        problems.append(f"{where}: give a weight or an amount, not both")
    if weight is None and amount is None:
        if default_amount is None:
            problems.append(f"{where}: give a weight or an amount (or a basket-wide [basket] amount)")
            return None
        amount = default_amount
    return BasketAsset(symbol, category, weight if weight is not None else ZERO, amount,
                       str(coin) if coin is not None else None)


def _weights(assets: list[BasketAsset], problems: list[str]) -> list[BasketAsset]:
    """Fill each asset's target weight: given weights (summing to 1), or each amount over the total."""
    if not assets:
        return []
    by_weight = [a for a in assets if a.amount is None]
    if by_weight and len(by_weight) != len(assets):
        problems.append("mix of weights and amounts: give every asset a weight, or every asset an amount "
                        "(or a basket-wide amount)")
        return assets
    if by_weight:
        total = sum((a.weight for a in assets), ZERO)
        if abs(total - ONE) > WEIGHT_TOLERANCE:
            problems.append(f"the weights add up to {total}, not 1")
            return assets
        return [_replace(a, a.weight / total, None) for a in assets]
    total = sum((a.amount or ZERO for a in assets), ZERO)
    return [_replace(a, (a.amount or ZERO) / total, a.amount) for a in assets]


def _replace(asset: BasketAsset, weight: Decimal, amount: Decimal | None) -> BasketAsset:
    return BasketAsset(asset.symbol, asset.category, weight, amount, asset.coingecko_id)
