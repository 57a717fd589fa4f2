"""Parse and validate command arguments into typed requests; anything wrong raises ``ArgError``.

Only ASCII digits are accepted in numbers (``int()`` and ``Decimal()`` also take Arabic-Indic and other
Unicode digits, which would let look-alike input through). The usage line is added by
``handlers.errors`` from the command table, so parsers only say what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from trader.core.errors import ArgError
from trader.services.dto import BacktestRequest, ChartRequest, GroupBy, Outcome, TaxMethod, TradeQuery

TIMEFRAMES = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w")
_PAIR = re.compile(r"^([A-Z0-9]{2,12})/([A-Z0-9]{2,12})$", re.ASCII)
_ASSET = re.compile(r"^[A-Z0-9]{2,12}$", re.ASCII)
_BASKET = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$", re.ASCII)
_INT = re.compile(r"^[0-9]{1,9}$", re.ASCII)
_DECIMAL = re.compile(r"^[0-9]{1,15}(\.[0-9]{1,18})?$|^\.[0-9]{1,18}$", re.ASCII)
_PERIOD = re.compile(r"^([0-9]{1,5})([dwmy]?)$", re.ASCII)
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$", re.ASCII)
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}(\.[a-z][a-z0-9_]{0,39}){0,3}$", re.ASCII)
_VALUE = re.compile(r"^[A-Za-z0-9_.+\-/:]{1,40}$", re.ASCII)
_POSITION_ID = re.compile(r"^[A-Za-z0-9_/-]{1,64}$", re.ASCII)  # ids hold the pair: breakout-BTC/USDT-...
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", re.ASCII)
_PERIOD_DAYS = {"": 1, "d": 1, "w": 7, "m": 30, "y": 365}
MAX_AMOUNT = Decimal(10) ** 12
MAX_DAYS = 3650


def shown(text: str, limit: int = 24) -> str:
    """Return user input shortened for an error message (escaping happens when it is formatted)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def at_most(args: Sequence[str], count: int) -> None:
    """Raise when more than ``count`` arguments were given."""
    if len(args) > count:
        extra = " ".join(args[count:])
        raise ArgError(f"Unexpected argument: {shown(extra)}" if count
                       else "This command takes no arguments.")


def no_args(args: Sequence[str]) -> None:
    """Raise when any argument was given."""
    at_most(args, 0)


def pair(text: str) -> str:
    """Return a BASE/QUOTE pair in upper case ('btc/usdt' -> 'BTC/USDT')."""
    candidate = text.strip().upper()
    if not _PAIR.match(candidate):
        raise ArgError(f"Not a pair: {shown(text)} (write it as BASE/QUOTE, e.g. BTC/USDT)")
    return candidate


def optional_asset(args: Sequence[str]) -> str | None:
    """Return an optional asset ticker in upper case ('btc' -> 'BTC'), or None when none was given."""
    at_most(args, 1)
    if not args:
        return None
    candidate = args[0].strip().upper().lstrip("$")
    if not _ASSET.match(candidate):
        raise ArgError(f"Not an asset ticker: {shown(args[0])} (e.g. BTC or ETH)")
    return candidate


def optional_basket(args: Sequence[str]) -> str | None:
    """Return an optional basket name in lower case, or None when none was given."""
    at_most(args, 1)
    if not args:
        return None
    candidate = args[0].strip().lower()
    if not _BASKET.match(candidate):
        raise ArgError(f"Not a basket name: {shown(args[0])} (e.g. default)")
    return candidate


def integer(text: str, what: str, low: int, high: int) -> int:
    """Return an ASCII integer within [low, high]."""
    if not _INT.match(text):
        raise ArgError(f"{what} must be a whole number from {low} to {high}, not {shown(text)}")
    value = int(text)
    if not low <= value <= high:
        raise ArgError(f"{what} must be from {low} to {high}, not {value}")
    return value


def amount(text: str) -> Decimal:
    """Return a positive amount with at most 18 decimals and below 10^12."""
    if text.startswith("-"):
        raise ArgError(f"The amount must be positive, not {shown(text)}")
    if not _DECIMAL.match(text):
        raise ArgError(f"Not an amount: {shown(text)} (use digits and a dot, e.g. 0.01)")
    try:
        value = Decimal(text)
    except InvalidOperation:  # unreachable after the regex; kept so no parser error can escape
        raise ArgError(f"Not an amount: {shown(text)}") from None
    if value <= 0:
        raise ArgError("The amount must be above zero.")
    if value >= MAX_AMOUNT:
        raise ArgError("That amount is far too large.")
    return value


def timeframe(text: str) -> str:
    """Return a supported timeframe ('1h', '4h', '1d'...)."""
    candidate = text.strip()
    if candidate == "1M" or candidate.lower() not in TIMEFRAMES:  # ccxt's 1M is a month: not 1m
        raise ArgError(f"Unknown timeframe {shown(text)}; use one of {', '.join(TIMEFRAMES)}")
    return candidate.lower()


def days(text: str, what: str = "Days") -> int:
    """Return a day count from 1 to 3650."""
    return integer(text, what, 1, MAX_DAYS)


def period_days(text: str) -> int:
    """Return a period such as '90', '90d', '12w', '6m' or '1y' in days (at most ten years)."""
    match = _PERIOD.match(text.strip().lower())
    if not match:
        raise ArgError(f"Not a period: {shown(text)} (e.g. 30d, 12w, 6m, 1y)")
    total = int(match.group(1)) * _PERIOD_DAYS[match.group(2)]
    if not 1 <= total <= MAX_DAYS:
        raise ArgError(f"The period must be from 1 day to {MAX_DAYS} days, not {total}")
    return total


def year(text: str) -> int:
    """Return a financial year from 2010 to 2100."""
    return integer(text, "The year", 2010, 2100)


def tax_method(text: str) -> TaxMethod:
    """Return a parcel-matching method by its name (``fifo``, ``highest-cost``, ``lowest-cost``)."""
    try:
        return TaxMethod(text.strip().lower())
    except ValueError:
        names = ", ".join(m.value for m in TaxMethod)
        raise ArgError(f"Unknown method {shown(text)}: choose {names}") from None


def since_date(args: Sequence[str]) -> datetime | None:
    """Return the optional start date (YYYY-MM-DD, midnight UTC) of a report, None without one."""
    at_most(args, 1)
    if not args:
        return None
    if not _DATE.match(args[0]):
        raise ArgError(f"Not a date: {shown(args[0])} (YYYY-MM-DD, e.g. 2024-03-01)")
    try:
        return datetime.strptime(args[0], "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise ArgError(f"No such day: {shown(args[0])}") from None


def strategy_name(text: str) -> str:
    """Return a strategy name: lower-case letters, digits and underscores."""
    candidate = text.strip().lower()
    if not _NAME.match(candidate):
        raise ArgError(f"Not a strategy name: {shown(text)} (see /strategies)")
    return candidate


def position_target(args: Sequence[str]) -> str | None:
    """Return a position id, or None for 'all'."""
    if not args:
        raise ArgError("Say which position to close, or all.")
    at_most(args, 1)
    if args[0].lower() == "all":
        return None
    if not _POSITION_ID.match(args[0]):
        raise ArgError(f"Not a position id: {shown(args[0])} (see /positions)")
    return args[0]


def one_pair(args: Sequence[str]) -> str:
    """Return the single PAIR argument."""
    if not args:
        raise ArgError("Which pair?")
    at_most(args, 1)
    return pair(args[0])


def optional_int(args: Sequence[str], what: str, low: int, high: int, default: int | None) -> int | None:
    """Return the single optional integer argument or ``default``."""
    at_most(args, 1)
    return integer(args[0], what, low, high) if args else default


@dataclass(frozen=True, slots=True)
class BuyArgs:
    """Parsed /buy arguments."""

    pair: str
    amount: Decimal | None


def buy(args: Sequence[str]) -> BuyArgs:
    """Parse ``PAIR [amount]``."""
    if not args:
        raise ArgError("Which pair?")
    at_most(args, 2)
    return BuyArgs(pair(args[0]), amount(args[1]) if len(args) > 1 else None)


def halt_flatten(args: Sequence[str]) -> bool:
    """Parse ``[flatten]``."""
    at_most(args, 1)
    if args and args[0].lower() != "flatten":
        raise ArgError(f"Unexpected argument: {shown(args[0])} (only 'flatten' is allowed)")
    return bool(args)


def group_by(args: Sequence[str]) -> GroupBy:
    """Parse ``[pair|strategy]`` (default pair)."""
    at_most(args, 1)
    if not args:
        return GroupBy.PAIR
    try:
        return GroupBy(args[0].lower())
    except ValueError:
        raise ArgError(f"Unexpected argument: {shown(args[0])} (use 'pair' or 'strategy')") from None


def chart(args: Sequence[str]) -> ChartRequest:
    """Parse ``PAIR [timeframe] [candles]``."""
    if not args:
        raise ArgError("Which pair?")
    at_most(args, 3)
    request = ChartRequest(pair=pair(args[0]))
    for token in args[1:]:
        if _INT.match(token):
            request = ChartRequest(request.pair, request.timeframe, integer(token, "Candles", 10, 500))
        else:
            request = ChartRequest(request.pair, timeframe(token), request.candles)
    return request


def backtest(args: Sequence[str]) -> BacktestRequest:
    """Parse ``STRATEGY PAIR [timeframe] [period]``."""
    if len(args) < 2:
        raise ArgError("Give a strategy and a pair.")
    at_most(args, 4)
    tf = timeframe(args[2]) if len(args) > 2 else "1h"
    period = period_days(args[3]) if len(args) > 3 else 90
    return BacktestRequest(strategy_name(args[0]), pair(args[1]), tf, period)


def trades(args: Sequence[str], page_size: int = 10) -> TradeQuery:
    """Parse ``[PAIR] [n] [won|lost]`` in any order, each at most once."""
    at_most(args, 3)
    found_pair: str | None = None
    outcome: Outcome | None = None
    size: int | None = None
    for token in args:
        lowered = token.lower()
        if lowered in ("won", "lost") and outcome is None:
            outcome = Outcome(lowered)
        elif "/" in token and found_pair is None:
            found_pair = pair(token)
        elif _INT.match(token) and size is None:
            size = integer(token, "Trades per page", 1, 50)
        else:
            raise ArgError(f"Unexpected argument: {shown(token)}")
    return TradeQuery(pair=found_pair, outcome=outcome, page=0, page_size=size or page_size)


def setting(args: Sequence[str]) -> tuple[str, str]:
    """Parse ``KEY VALUE`` for /settings."""
    if len(args) != 2:
        raise ArgError("Give a key and a value, e.g. /settings risk.risk_per_trade 0.01")
    key, value = args[0].lower(), args[1]
    if not _KEY.match(key):
        raise ArgError(f"Not a setting key: {shown(args[0])} (see /settings)")
    if not _VALUE.match(value):
        raise ArgError(f"Not a valid value: {shown(value)}")
    return key, value
