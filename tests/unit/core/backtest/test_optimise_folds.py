"""Walk-forward fold construction and window segments."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trader.core.errors import InputError
from trader.core.optimise.folds import Window, segments, walk_forward

H = 3_600_000
T0 = 1_672_531_200_000  # 2023-01-01 00:00 UTC


def test_one_fold_is_a_plain_train_test_split() -> None:
    (fold,) = walk_forward(Window(T0, T0 + 1000 * H), 1, 0.3, H)
    assert fold.train == Window(T0, T0 + 700 * H)
    assert fold.test == Window(T0 + 700 * H, T0 + 1000 * H)
    assert fold.train.label() == "2023-01-01 00:00 → 2023-01-30 04:00"


def test_rolling_folds_tile_the_end_with_unseen_tests_and_fixed_train_length() -> None:
    folds = walk_forward(Window(T0, T0 + 1300 * H), 4, 0.25, H)
    # W = 1300 / (1 + 3 * 0.25) = 742.86 -> test 185, train 557
    assert [f.test.end_ms - f.test.start_ms for f in folds] == [185 * H] * 4
    assert [f.train.end_ms - f.train.start_ms for f in folds] == [557 * H] * 4
    assert folds[-1].test.end_ms == T0 + 1300 * H
    for a, b in itertools.pairwise(folds):
        assert b.test.start_ms == a.test.end_ms  # tests do not overlap and leave no gap
    for f in folds:
        assert f.train.end_ms == f.test.start_ms  # train ends where its test starts
        assert f.train.start_ms >= T0


def test_anchored_folds_train_from_the_period_start() -> None:
    folds = walk_forward(Window(T0, T0 + 1300 * H), 3, 0.25, H, anchored=True)
    assert {f.train.start_ms for f in folds} == {T0}
    assert folds[0].train.end_ms < folds[1].train.end_ms < folds[2].train.end_ms


def test_boundaries_fall_on_candle_opens() -> None:
    folds = walk_forward(Window(T0 + 1234, T0 + 999 * H + 77), 3, 0.3, H)
    for f in folds:
        for ms in (f.train.start_ms, f.train.end_ms, f.test.start_ms, f.test.end_ms):
            assert ms % H == 0


@pytest.mark.parametrize(("folds", "fraction", "candles", "message"), [
    (0, 0.3, 100, "folds must be >= 1"),
    (1, 1.0, 100, "test fraction"),
    (1, 0.0, 100, "test fraction"),
    (3, 0.3, 2, "too few"),
])
def test_impossible_fold_requests_are_clear_errors(folds: int, fraction: float, candles: int,
                                                   message: str) -> None:
    with pytest.raises(InputError, match=message):
        walk_forward(Window(T0, T0 + candles * H), folds, fraction, H)


@given(st.integers(1, 8), st.floats(0.05, 0.9), st.integers(50, 5000), st.booleans())
def test_folds_stay_inside_the_period_and_tests_never_overlap_train(folds: int, fraction: float,
                                                                    candles: int, anchored: bool) -> None:
    try:
        out = walk_forward(Window(T0, T0 + candles * H), folds, fraction, H, anchored=anchored)
    except InputError:
        return
    assert len(out) == folds
    for f in out:
        assert T0 <= f.train.start_ms < f.train.end_ms == f.test.start_ms < f.test.end_ms <= T0 + candles * H
    assert [f.index for f in out] == list(range(1, folds + 1))


def test_segments_split_a_window_into_consecutive_parts() -> None:
    parts = segments(Window(T0, T0 + 10 * H), 3, H)
    assert parts == (Window(T0, T0 + 3 * H), Window(T0 + 3 * H, T0 + 6 * H), Window(T0 + 6 * H, T0 + 10 * H))
    with pytest.raises(InputError):
        segments(Window(T0, T0 + 2 * H), 3, H)
