"""The one number formatter of the product: money, percent, ratio, price and quantity as plain text.

Services hand out numbers in their natural unit (an amount in a currency, a fraction 0.12 for 12 %, a
ratio); Telegram messages, alerts, the CLI and captions turn them into text here and nowhere else, so a
presentation layer never rescales a value. A value that cannot be shown as a number (unknown, NaN,
infinite) reads "n/a" with the reason when one is known, never "inf", "NaN" or "0E+18".
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

NA = "n/a"

Number = Decimal | float | int


def undefined(why: str | None = None) -> str:
    """Return the text of a value that is not a number: 'n/a' or 'n/a (why)'."""
    return f"{NA} ({why})" if why else NA


def _not_a_number(value: Number | None, why: str | None) -> str | None:
    """Return the 'n/a' text when ``value`` cannot be printed as a number, else None."""
    if value is None:
        return undefined(why)
    if isinstance(value, Decimal):
        if value.is_nan():
            return undefined(why or "not a number")
        if value.is_infinite():
            return undefined(why or "unbounded")
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return undefined(why or "not a number")
        if math.isinf(value):
            return undefined(why or "unbounded")
    return None


def _quantize(exact: Decimal, places: int) -> Decimal:
    """Return ``exact`` rounded half-even to ``places`` decimals, however large it is."""
    with localcontext() as context:
        context.prec = max(28, exact.adjusted() + places + 2)  # the default 28 digits refuse 1E+30
        # explicit: the thread's context may carry another rounding (a library set ROUND_DOWN globally)
        return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def _fixed(value: Number, digits: int, *, sign: bool, group: bool = True) -> str:
    """Return ``value`` rounded half-even to ``digits`` places; a value that rounds to zero is unsigned."""
    exact = value if isinstance(value, Decimal) else Decimal(repr(value)) if isinstance(value, float) \
        else Decimal(value)
    rounded = _quantize(exact, digits)
    if rounded == 0:
        rounded = abs(rounded)  # "-0.00" is noise, and a zero has no sign to show
        sign = False
    spec = f"{'+' if sign else ''}{',' if group else ''}.{digits}f"
    return format(rounded, spec)


def money(value: Number | None, quote: str = "", *, sign: bool = False, digits: int = 2,
          why: str | None = None) -> str:
    """Return an amount of money with two decimals and thousands separators: '1,234.50 USDT'.

    ``sign`` shows '+' on gains (PnL); losses always carry '-'.
    """
    text = _not_a_number(value, why)
    if text is None:
        assert value is not None
        text = _fixed(value, digits, sign=sign)
    return f"{text} {quote}" if quote else text


def percent(fraction: Number | None, *, sign: bool = True, digits: int = 2, why: str | None = None) -> str:
    """Return a fraction as a percentage: 0.0123 -> '+1.23%' (``sign=False``: '1.23%')."""
    text = _not_a_number(fraction, why)
    if text is not None:
        return text
    assert fraction is not None
    hundred = fraction * 100 if isinstance(fraction, Decimal) else Decimal(repr(float(fraction))) * 100
    return f"{_fixed(hundred, digits, sign=sign, group=False)}%"


def ratio(value: Number | None, *, digits: int = 2, why: str | None = None) -> str:
    """Return a dimensionless ratio (profit factor, Sharpe, Sortino) rounded: 1.2345 -> '1.23'."""
    text = _not_a_number(value, why)
    if text is not None:
        return text
    assert value is not None
    return _fixed(value, digits, sign=False, group=False)


def number(value: Number | None, *, digits: int = 2, why: str | None = None) -> str:
    """Return a plain count-like number with thousands separators: 1234.5 -> '1,234.50'."""
    text = _not_a_number(value, why)
    if text is not None:
        return text
    assert value is not None
    return _fixed(value, digits, sign=False)


def price(value: Number | None, *, why: str | None = None) -> str:
    """Return a price with precision that suits its size: 64,000.50, 1.2345, 0.00001234 ('n/a' unknown)."""
    text = _not_a_number(value, why)
    if text is not None:
        return text
    assert value is not None
    size = abs(Decimal(repr(value)) if isinstance(value, float) else Decimal(value))
    places = 2 if size >= 1000 else 4 if size >= 1 else 8
    return _fixed(value, places, sign=False)


QTY_PLACES = 8  # a satoshi: no venue trades a finer step, and more digits are float noise


def qty(value: Number | None, *, why: str | None = None) -> str:
    """Return an amount of coins to at most 8 decimals, without trailing zeros or an exponent.

    0.0500 -> '0.05'; 0.9154665135144889 -> '0.91546651'.
    """
    text = _not_a_number(value, why)
    if text is not None:
        return text
    assert value is not None
    exact = value if isinstance(value, Decimal) else Decimal(repr(value)) if isinstance(value, float) \
        else Decimal(value)
    text = f"{_quantize(exact, QTY_PLACES):f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text
