"""The one number formatter of the product: money, percent, ratio, price and quantity as plain text.

Services hand out numbers in their natural unit (an amount in a currency, a fraction 0.12 for 12 %, a
ratio); Telegram messages, alerts, the CLI and captions turn them into text here and nowhere else, so a
presentation layer never rescales a value. A value that cannot be shown as a number (unknown, NaN,
infinite) reads "n/a" with the reason when one is known, never "inf", "NaN" or "0E+18". The drift
report's plain text (shared by the CLI, /drift and its alert) is built here from the same helpers.
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal, localcontext

from trader.services.drift_dto import DriftSide, DriftTradeView, DriftView

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
        return exact.quantize(Decimal(1).scaleb(-places))


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


def _minute(moment: datetime) -> str:
    """Return a UTC time to the minute: 2024-03-01 14:00."""
    return moment.strftime("%Y-%m-%d %H:%M")


def _drift_side(label: str, side: DriftSide | None) -> str:
    if side is None:
        return f"  {label}: no trade"
    return (f"  {label}: {_minute(side.entry_time)} @ {price(side.entry_price)} → "
            f"{_minute(side.exit_time)} @ {price(side.exit_price)} {side.exit_reason}, {qty(side.amount)}, "
            f"PnL {money(side.pnl, sign=True)}")


def drift_trade(t: DriftTradeView) -> list[str]:
    """Return one compared trade: both sides, then its PnL difference by part and why decisions differ."""
    mark = "LOGIC" if t.is_logic else "exec" if t.differs else "same"
    lines = [f"[{mark}] {t.status} {t.pair} {t.direction.value} {t.strategy} {_minute(t.entry_time)}",
             _drift_side("backtest", t.backtest), _drift_side("account ", t.account)]
    if t.differs:
        lines.append(f"  PnL difference {money(t.pnl_difference, sign=True)}: slippage "
                     f"{money(t.slippage, sign=True)}, fees {money(t.fees, sign=True)}, size "
                     f"{money(t.size, sign=True)}, logic {money(t.logic, sign=True)}"
                     + (f" ({', '.join(t.why)})" if t.why else ""))
    return lines


def drift_report(view: DriftView, *, every_trade: bool = False) -> str:
    """Return the drift report as plain text: summary, parameter changes, then the trades that differ
    (``every_trade``: all of them)."""
    logic = len(view.logic_differences)
    names = ", ".join(view.strategies) or "no strategy"
    lines = [f"Drift {_minute(view.start)} → {_minute(view.end)} UTC ({names})",
             f"Trades: {view.matched} matched, {view.missing} missing, {view.extra} extra; "
             f"{logic} logic difference{'' if logic == 1 else 's'}",
             f"PnL difference ({view.quote}): slippage {money(view.slippage, sign=True)}, fees "
             f"{money(view.fees, sign=True)}, size {money(view.size, sign=True)}, logic "
             f"{money(view.logic, sign=True)}"]
    lines += [f"Parameter {c.key}: {c.old} → {c.new} at {_minute(c.at)}" for c in view.changes]
    lines += [f"Note: {n}" for n in view.notes]
    shown = view.trades if every_trade else view.differing
    if shown:
        lines.append("")
        for t in shown:
            lines += drift_trade(t)
    elif view.trades:
        lines.append("Every trade is the same in the backtest and the account.")
    return "\n".join(lines)


def drift_alert(view: DriftView) -> str:
    """Return the alert text for a report with logic differences: the count and the newest few trades."""
    found = view.logic_differences
    lines = [f"Drift: {len(found)} trade(s) differ from the backtest in their decisions "
             f"({_minute(view.start)} → {_minute(view.end)} UTC)"]
    for t in found[-3:]:
        lines.append(f"{t.status} {t.pair} {_minute(t.entry_time)}: {', '.join(t.why)}, "
                     f"PnL difference {money(t.pnl_difference, view.quote, sign=True)}")
    lines.append("Details: /drift or tradebot drift")
    return "\n".join(lines)
