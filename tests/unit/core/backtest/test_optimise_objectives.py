"""Objective functions on hand-made equity curves, constraints, and segment combination."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from trader.core.analytics import curve
from trader.core.errors import InputError
from trader.core.optimise.objectives import Objective, ObjectiveName, Score


def daily(values: list[float]) -> pd.Series:
    return pd.Series(values, index=pd.date_range("2024-01-01", periods=len(values), freq="1D", tz="UTC"))


CURVE = daily([100, 102, 101, 104, 98, 103, 107, 106, 110])


def test_sharpe_is_the_analytics_sharpe_of_daily_returns() -> None:
    score = Objective(ObjectiveName.SHARPE).score(CURVE, trades=6)
    assert score.value == pytest.approx(curve.sharpe_ratio(curve.daily_returns(CURVE)))
    assert score.feasible and score.trades == 6


def test_return_and_drawdown() -> None:
    score = Objective(ObjectiveName.RETURN).score(CURVE, trades=6)
    assert score.value == pytest.approx(0.10)
    assert score.drawdown == pytest.approx(1 - 98 / 104)


def test_calmar_is_cagr_over_drawdown_with_a_one_percent_floor() -> None:
    score = Objective(ObjectiveName.CALMAR).score(CURVE, trades=6)
    assert score.value == pytest.approx((curve.cagr(CURVE) or 0.0) / (1 - 98 / 104))
    smooth = daily([100, 100.001, 100.002, 101])  # a tiny drawdown-free run
    expected = (curve.cagr(smooth) or 0.0) / 0.01
    assert Objective(ObjectiveName.CALMAR).score(smooth, 1).value == pytest.approx(expected)


def test_profit_with_drawdown_cap_is_infeasible_over_the_cap() -> None:
    capped = Objective(ObjectiveName.PROFIT_DD, max_drawdown=0.05)
    over = capped.score(CURVE, 6)
    assert over.value == pytest.approx(0.10) and not over.feasible
    assert over.violation == "drawdown 5.8% > cap 5%"
    assert Objective(ObjectiveName.PROFIT_DD, max_drawdown=0.06).score(CURVE, 6).feasible


def test_a_flat_curve_scores_zero_and_too_few_trades_is_infeasible() -> None:
    flat = daily([100.0] * 10)
    objective = Objective(ObjectiveName.SHARPE, min_trades=3)
    assert objective.score(flat, 0).value == 0.0
    combined = objective.combine([objective.score(flat, 0), objective.score(CURVE, 2)])
    assert combined.violation == "2 trades < minimum 3"


def test_combine_averages_segments_and_keeps_the_first_violation() -> None:
    objective = Objective(ObjectiveName.RETURN, min_trades=1)
    parts = [Score(0.1, 2, 0.05), Score(0.3, 1, 0.2, "drawdown 20%"), Score(-0.1, 0, 0.01)]
    combined = objective.combine(parts)
    assert combined.value == pytest.approx(0.1)
    assert combined.trades == 3 and combined.drawdown == 0.2 and combined.violation == "drawdown 20%"


@pytest.mark.parametrize(("kwargs", "message"), [({"max_drawdown": 0.0}, "max drawdown"),
                                                 ({"max_drawdown": 1.5}, "max drawdown"),
                                                 ({"min_trades": -1}, "min trades")])
def test_bad_constraints_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(InputError, match=message):
        Objective(**kwargs)  # type: ignore[arg-type]


def test_a_single_point_curve_scores_zero_for_every_objective() -> None:
    for name in ObjectiveName:
        value = Objective(name).score(daily([100.0]), 0).value
        assert value == 0.0 and not math.isnan(value)
    assert np.isfinite(Objective(ObjectiveName.SHARPE).score(CURVE, 1).value)
