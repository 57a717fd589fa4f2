"""Plain display helpers for prices and amounts, shared by Telegram messages and alerts (no HTML here)."""

from __future__ import annotations

from decimal import Decimal


def price(value: Decimal | None) -> str:
    """Return a price with precision that suits its size ('-' when unknown): 64,000.50, 1.2345, 0.00001234."""
    if value is None:
        return "-"
    size = abs(value)
    places = 2 if size >= 1000 else 4 if size >= 1 else 8
    return f"{value:,.{places}f}"


def qty(value: Decimal) -> str:
    """Return an amount without trailing zeros."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent(fraction: float | None, *, sign: bool = True, digits: int = 1) -> str:
    """Return a fraction as a percentage, 0.123 -> '+12.3%' ('-' when unknown)."""
    if fraction is None:
        return "-"
    return f"{fraction * 100:+.{digits}f}%" if sign else f"{fraction * 100:.{digits}f}%"
