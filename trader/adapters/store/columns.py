"""Column types that keep money exact and timestamps UTC on every backend.

SQLite has no decimal type: a NUMERIC column converts text to REAL and keeps only 15 significant
digits, so on SQLite ``Money`` is stored as text. Both backends quantize to 18 decimal places (what
PostgreSQL's Numeric(38, 18) does itself), so the two return the same values. Consequence: never compare,
sort or sum Money columns in SQL (text on SQLite); repositories filter money in Python. ``UtcDateTime`` stores
UTC (naive on SQLite, which has no time zones) and always returns aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric, String
from sqlalchemy.types import TypeDecorator, TypeEngine

MONEY_PRECISION = 38
MONEY_SCALE = 18
_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)
_CONTEXT = Context(prec=MONEY_PRECISION, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation])


class Money(TypeDecorator[Decimal]):
    """Exact Decimal: Numeric(38, 18) on PostgreSQL, decimal text on SQLite."""

    impl = Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Use text on SQLite so no digit is lost."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(60))
        return dialect.type_descriptor(Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        """Quantize to 18 places; refuse floats (they are never money)."""
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"money must be Decimal, got {type(value).__name__}: {value!r}")
        exact = quantize_money(value)
        return str(exact) if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Return a Decimal with 18 places on both backends."""
        if value is None:
            return None
        return quantize_money(Decimal(value))


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetime in and out; naive input is refused rather than guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC; strip the zone on SQLite, which would store it as text otherwise."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()}: timestamps must be UTC-aware")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def quantize_money(value: Decimal) -> Decimal:
    """Return ``value`` as the store returns it: 18 decimal places, half-even; ValueError beyond 38 digits."""
    if not value.is_finite():
        raise ValueError(f"money must be finite, got {value}")
    try:
        return _CONTEXT.quantize(value, _QUANTUM)
    except InvalidOperation:
        raise ValueError(f"{value} does not fit Numeric({MONEY_PRECISION}, {MONEY_SCALE})") from None
