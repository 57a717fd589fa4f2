"""ParameterBook: keys, validation through the pydantic section and Param specs, overrides."""

from __future__ import annotations

from decimal import Decimal

import pytest

from trader.config import RiskConfig, StrategyEntry
from trader.core.errors import InputError
from trader.core.strategies.registry import default_registry
from trader.live.parameters import ParameterBook


def _book(overrides: dict[str, str] | None = None) -> ParameterBook:
    return ParameterBook(RiskConfig(), (StrategyEntry(name="breakout"),), default_registry(), overrides)


def test_views_cover_risk_trailing_and_strategy_parameters_with_bounds() -> None:
    views = {v.key: v for v in _book().views()}
    risk = views["risk.risk_per_trade"]
    assert risk.value == "0.01" and risk.bounds == "x > 0 and <= 1"
    assert "risk.trailing.distance" in views
    assert views["breakout.lookback"].bounds == "2 <= x <= 1000" and views["breakout.lookback"].doc


def test_preview_changes_nothing_and_apply_records_the_override() -> None:
    book = _book()
    change = book.preview("risk.max_open_positions", "3")
    assert (change.old, change.new) == ("5", "3") and book.risk.max_open_positions == 5
    book.apply(change)
    assert book.risk.max_open_positions == 3 and book.overrides == {"risk.max_open_positions": "3"}


@pytest.mark.parametrize(("key", "value", "says"), [
    ("risk.risk_per_trade", "0", "greater than 0"),
    ("risk.sizing", "yolo", "fixed_fraction"),
    ("risk.nope", "1", "Unknown setting"),
    ("breakout.lookback", "1", "below the minimum"),
    ("breakout.lookback", "abc", "not an integer"),
    ("bollinger_reversion.period", "20", "not enabled"),
])
def test_invalid_values_raise_input_error_naming_the_problem(key: str, value: str, says: str) -> None:
    book = _book()
    with pytest.raises(InputError) as raised:
        book.preview(key, value)
    assert says in raised.value.user_message
    assert book.overrides == {}


def test_stored_overrides_apply_at_start_and_stale_ones_are_ignored() -> None:
    book = _book({"risk.risk_per_trade": "0.02", "gone_strategy.period": "5", "breakout.lookback": "30"})
    assert book.risk.risk_per_trade == Decimal("0.02")
    assert book.strategies[0].params == {"lookback": 30}
    assert set(book.overrides) == {"risk.risk_per_trade", "breakout.lookback"}
