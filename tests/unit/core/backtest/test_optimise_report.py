"""The walk-forward table and its over-fitting summary."""

from __future__ import annotations

import math

from trader.core.optimise.folds import Fold, Window
from trader.core.optimise.objectives import Objective, Score
from trader.core.optimise.report import FoldOutcome, fold_table, format_params, summary

DAY = 86_400_000
T0 = 1_672_531_200_000  # 2023-01-01


def outcome(index: int, train: float, test: float, violation: str = "") -> FoldOutcome:
    fold = Fold(index, Window(T0, T0 + 10 * DAY), Window(T0 + 10 * DAY, T0 + 14 * DAY))
    return FoldOutcome(fold, {"lookback": 20, "mult": 1.25, "mode": "atr"}, Score(train, 30, 0.1),
                       Score(test, 7, 0.05, violation), 40, 3, 2)


def test_table_has_one_aligned_row_per_fold_with_both_objectives() -> None:
    text = fold_table([outcome(1, 1.5, 0.25), outcome(2, 2.0, -0.5, "2 trades < minimum 5")], Objective())
    lines = text.splitlines()
    assert lines[0].split() == ["fold", "train", "period", "test", "period", "best", "params", "train",
                                "sharpe", "test", "sharpe", "test", "trades", "trials"]
    assert set(lines[1]) <= {"-", " "}
    assert "2023-01-01 → 2023-01-11" in lines[2] and "2023-01-11 → 2023-01-15" in lines[2]
    assert "lookback=20 mult=1.25 mode=atr" in lines[2]
    assert "1.500" in lines[2] and "0.250" in lines[2] and "40 (3 pruned, 2 infeasible)" in lines[2]
    assert "-0.500 (2 trades < minimum 5)" in lines[3]
    assert lines[2].index("1.500") == lines[3].index("2.000")  # columns aligned


def test_summary_flags_a_test_score_far_below_train() -> None:
    assert summary([outcome(1, 2.0, 1.8)], Objective()) == "mean sharpe: train 2.000, test 1.800"
    assert "likely over-fitted" in summary([outcome(1, 2.0, 0.5)], Objective())
    assert "no out-of-sample edge" in summary([outcome(1, 2.0, -0.1)], Objective())
    nan = outcome(1, math.nan, math.nan)
    assert summary([nan], Objective()) == "no fold found a feasible parameter set"


def test_params_format_shortens_floats() -> None:
    assert format_params({"a": 0.30000000000000004, "b": 3, "c": True}) == "a=0.3 b=3 c=True"
