"""Money and UTC timestamp columns: exact round trips on a real SQLite engine, clear refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from trader.adapters.store.columns import Money, UtcDateTime, quantize_money

META = sa.MetaData()
VALUES = sa.Table("t", META, sa.Column("id", sa.Integer, primary_key=True), sa.Column("m", Money),
                  sa.Column("ts", UtcDateTime))
ENGINE = sa.create_engine("sqlite://")
META.create_all(ENGINE)

money = st.decimals(min_value=Decimal("-1e20") + 1, max_value=Decimal("1e20") - 1, places=18,
                    allow_nan=False, allow_infinity=False)


def round_trip(value: object, column: str = "m") -> object:
    with ENGINE.begin() as conn:
        conn.execute(VALUES.delete())
        conn.execute(VALUES.insert().values({column: value}))
        return conn.execute(sa.select(VALUES.c[column])).scalar_one()


@settings(max_examples=200, deadline=None)
@given(money)
def test_any_numeric_38_18_value_round_trips_exactly_on_sqlite(value: Decimal) -> None:
    assert round_trip(value) == value


@given(st.decimals(min_value=-1000, max_value=1000, places=25, allow_nan=False, allow_infinity=False))
def test_more_than_18_places_round_half_even_like_postgres(value: Decimal) -> None:
    stored = round_trip(value)
    assert isinstance(stored, Decimal)
    assert stored == value.quantize(Decimal("1e-18"))
    assert stored.as_tuple().exponent == -18


def test_out_of_range_nan_and_float_are_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        quantize_money(Decimal("1e21"))
    with pytest.raises(ValueError, match="finite"):
        quantize_money(Decimal("NaN"))
    with pytest.raises(sa.exc.StatementError, match="must be Decimal"):
        round_trip(0.1)


def test_timestamps_are_stored_utc_and_come_back_aware() -> None:
    local = datetime(2024, 7, 1, 10, 30, 15, 123456, tzinfo=timezone(timedelta(hours=10)))
    back = round_trip(local, "ts")
    assert back == local and back.tzinfo is UTC  # type: ignore[union-attr]
    with pytest.raises(sa.exc.StatementError, match="naive"):
        round_trip(datetime(2024, 7, 1), "ts")
