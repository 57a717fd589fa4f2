"""Sizing rules: stop resolution, loss per unit, fixed fraction, confidence, Kelly, all-in."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit.core.risk.make import config, market, request
from trader.core.domain.entries import RefusalReason, Refused
from trader.core.domain.enums import Direction
from trader.core.risk.sizing import (
    all_in,
    confidence_multiplier,
    fixed_fraction,
    kelly_fraction,
    loss_per_unit,
    resolve_stop,
)

D = Decimal


def test_missing_stop_defaults_to_default_stop_pct() -> None:
    assert resolve_stop(request(stop=None), config(), market()) == D("58800.00")
    assert resolve_stop(request(stop=None, direction=Direction.SHORT), config(), market()) == D("61200.00")


def test_stop_rounds_toward_the_position() -> None:
    assert resolve_stop(request(stop="58799.991"), config(), market()) == D("58800.00")


@pytest.mark.parametrize(("direction", "stop"), [(Direction.LONG, "60000"), (Direction.LONG, "61000"),
                                                  (Direction.SHORT, "59000")])
def test_stop_on_the_wrong_side_is_refused(direction: Direction, stop: str) -> None:
    result = resolve_stop(request(stop=stop, direction=direction), config(), market())
    assert isinstance(result, Refused) and result.reason is RefusalReason.INVALID_REQUEST
    assert "must be" in result.detail


def test_loss_per_unit_includes_fees_and_slippage_on_both_legs() -> None:
    assert loss_per_unit(D(100), D(90), Direction.LONG, D(0), D(0)) == D(10)
    # buy 100 * 1.01 * 1.001 = 101.101; sell 90 * 0.99 * 0.999 = 89.0109
    assert loss_per_unit(D(100), D(90), Direction.LONG, D("0.001"), D("0.01")) == D("12.0901")
    # short: buy back 110 * 1.01 * 1.001 = 111.2111; sold 100 * 0.99 * 0.999 = 98.901
    assert loss_per_unit(D(100), D(110), Direction.SHORT, D("0.001"), D("0.01")) == D("12.3101")


def test_fixed_fraction_loses_the_fraction_at_the_stop() -> None:
    assert fixed_fraction(D(10_000), D("0.01"), D(10)) == D(10)
    assert fixed_fraction(D(0), D("0.01"), D(10)) == 0
    assert fixed_fraction(D(10_000), D("0.01"), D(0)) == 0


def test_confidence_multiplier_is_linear_and_clamped() -> None:
    assert confidence_multiplier(0.7) == D("0.7")
    assert confidence_multiplier(1.5) == 1 and confidence_multiplier(-1) == 0


def test_kelly_with_short_history_returns_none_for_fallback() -> None:
    assert kelly_fraction([D(1)] * 29, config(kelly_min_trades=30)) is None


def test_kelly_fraction_from_win_rate_and_payoff() -> None:
    history = [D(20)] * 6 + [D(-10)] * 4  # W = 0.6, R = 2 -> f* = 0.6 - 0.4 / 2 = 0.4
    cfg = config(kelly_min_trades=10, kelly_fraction=D("0.25"), kelly_max_risk=D("0.5"))
    assert kelly_fraction(history, cfg) == D("0.1")


def test_kelly_is_capped_by_kelly_max_risk() -> None:
    history = [D(20)] * 6 + [D(-10)] * 4
    assert kelly_fraction(history, config(kelly_min_trades=10)) == D("0.02")


def test_kelly_without_losses_uses_the_win_rate() -> None:
    cfg = config(kelly_min_trades=3, kelly_fraction=D("0.1"), kelly_max_risk=D(1))
    assert kelly_fraction([D(1), D(2), D(0)], cfg) == D("0.1") * D(2) / D(3)


@pytest.mark.parametrize("history", [[D(-1)] * 10, [D(10)] * 3 + [D(-10)] * 7])
def test_kelly_without_edge_is_refused(history: list[Decimal]) -> None:
    result = kelly_fraction(history, config(kelly_min_trades=10))
    assert isinstance(result, Refused) and result.reason is RefusalReason.NO_EDGE


def test_all_in_spends_free_balance_including_fee() -> None:
    assert all_in(D(1001), D(100), D("0.001"), D(0)) == D(10)
    assert all_in(D(0), D(100), D("0.001"), D(0)) == 0
