"""Edge cases shared by every indicator: empty, too short, constant prices, NaN in the input."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from trader.core import indicators as ind

Indicator = Callable[[np.ndarray], np.ndarray]

SINGLE: dict[str, Indicator] = {
    "sma": lambda x: ind.sma(x, 5),
    "ema": lambda x: ind.ema(x, 5),
    "rsi": lambda x: ind.rsi(x, 5),
    "rolling_max": lambda x: ind.rolling_max(x, 5),
    "rolling_min": lambda x: ind.rolling_min(x, 5),
    "bollinger_upper": lambda x: ind.bollinger(x, 5, 2.0).upper,
    "macd_line": lambda x: ind.macd(x, 3, 5, 2).line,
    "atr": lambda x: ind.atr(x + 1, x - 1, x, 5),
    "adx": lambda x: ind.adx(x + 1, x - 1, x, 5),
    "volume_ratio": lambda x: ind.volume_ratio(x, 5),
    "rolling_zscore": lambda x: ind.rolling_zscore(x, 5),
    "realised_volatility": lambda x: ind.realised_volatility(x, 5),
    "percentile_rank": lambda x: ind.percentile_rank(x, 10, 2),
}
# Index of the first defined value for each indicator (the warm-up convention).
FIRST = {
    "sma": 4,
    "ema": 4,
    "rsi": 5,
    "rolling_max": 4,
    "rolling_min": 4,
    "bollinger_upper": 4,
    "macd_line": 5,
    "atr": 5,
    "adx": 9,
    "volume_ratio": 4,
    "rolling_zscore": 4,
    "realised_volatility": 5,
    "percentile_rank": 10,
}


def _prices(n: int) -> np.ndarray:
    prices: np.ndarray = 100 + np.sin(np.arange(n) / 3.0) * 5 + np.arange(n) * 0.1
    return prices


@pytest.mark.parametrize("name", SINGLE)
def test_empty_input_gives_empty_output(name: str) -> None:
    out = SINGLE[name](np.array([], dtype=np.float64))
    assert out.shape == (0,)
    assert out.dtype == np.float64


@pytest.mark.parametrize("name", SINGLE)
def test_input_shorter_than_window_is_all_nan(name: str) -> None:
    out = SINGLE[name](_prices(FIRST[name]))
    assert len(out) == FIRST[name]
    assert np.isnan(out).all()


@pytest.mark.parametrize("name", SINGLE)
def test_first_value_appears_exactly_after_the_warm_up(name: str) -> None:
    out = SINGLE[name](_prices(40))
    assert np.isnan(out[: FIRST[name]]).all()
    assert not np.isnan(out[FIRST[name] :]).any()


@pytest.mark.parametrize("name", SINGLE)
def test_nan_after_valid_data_is_rejected_with_its_index(name: str) -> None:
    x = _prices(40)
    x[20] = np.nan
    with pytest.raises(ValueError, match="index 20"):
        SINGLE[name](x)


@pytest.mark.parametrize("name", ["sma", "ema", "rsi", "rolling_max", "rolling_zscore", "percentile_rank"])
def test_leading_nan_only_extends_the_warm_up(name: str) -> None:
    x = _prices(40)
    shifted = x.copy()
    shifted[:3] = np.nan
    out = SINGLE[name](shifted)
    np.testing.assert_array_equal(out[3:], SINGLE[name](x[3:]))
    assert np.isnan(out[:3]).all()


def test_infinite_value_is_rejected() -> None:
    x = _prices(20)
    x[0] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        ind.sma(x, 3)


def test_constant_prices_have_zero_sigma_and_neutral_rsi() -> None:
    flat = np.full(200, 60000.1)
    assert (ind.rsi(flat, 14)[14:] == 50.0).all()
    bands = ind.bollinger(flat, 20, 2.0)
    np.testing.assert_array_equal(bands.upper[19:], flat[19:])
    np.testing.assert_array_equal(bands.lower[19:], flat[19:])
    assert (ind.rolling_zscore(flat, 20)[19:] == 0.0).all()
    assert (ind.realised_volatility(flat, 20)[20:] == 0.0).all()
    assert (ind.atr(flat, flat, flat, 14)[14:] == 0.0).all()
    assert (ind.adx(flat, flat, flat, 14)[27:] == 0.0).all()
    assert (ind.percentile_rank(ind.realised_volatility(flat, 5), 50, 5)[55:] == 0.5).all()
    assert (ind.volume_ratio(np.full(50, 3.0), 10)[9:] == 1.0).all()


def test_rsi_is_zero_after_only_losses_and_hundred_after_only_gains() -> None:
    falling = np.linspace(100, 50, 60)
    assert ind.rsi(falling, 14)[-1] == 0.0
    assert ind.rsi(falling[::-1], 14)[-1] == 100.0


def test_rsi_of_a_market_that_starts_flat_then_moves_uses_the_moves() -> None:
    x = np.r_[np.full(20, 10.0), np.linspace(10, 12, 20)]
    out = ind.rsi(x, 5)
    assert (out[5:20] == 50.0).all()
    assert out[-1] == 100.0


def test_volume_ratio_of_a_dead_market_is_zero_not_nan() -> None:
    v = np.r_[np.zeros(30), 5.0]
    out = ind.volume_ratio(v, 10)
    assert (out[9:30] == 0.0).all()
    assert out[30] == pytest.approx(10.0)


def test_negative_volume_and_non_positive_price_are_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        ind.volume_ratio(np.array([1.0, -1.0, 2.0]), 2)
    with pytest.raises(ValueError, match="non-positive"):
        ind.realised_volatility(np.array([1.0, 0.0, 2.0]), 2)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_invalid_period_is_rejected(bad: object) -> None:
    with pytest.raises(ValueError, match="period"):
        ind.sma(_prices(10), bad)  # type: ignore[arg-type]


def test_mismatched_lengths_are_rejected() -> None:
    with pytest.raises(ValueError, match="lengths differ"):
        ind.atr(_prices(10), _prices(9), _prices(10), 3)


def test_percentile_rank_needs_lookback_at_least_stride() -> None:
    with pytest.raises(ValueError, match="lookback"):
        ind.percentile_rank(_prices(50), 5, 10)


def test_outputs_are_causal_prefix_results_equal_full_results() -> None:
    x = _prices(300)
    for name, fn in SINGLE.items():
        full = fn(x)
        np.testing.assert_array_equal(fn(x[:200]), full[:200], err_msg=name)


def test_percentile_rank_at_selected_rows_equals_the_full_computation() -> None:
    rng = np.random.default_rng(7)
    x = np.r_[np.full(5, np.nan), rng.normal(size=3000).round(1)]  # rounding makes ties common
    rows = np.sort(rng.choice(len(x), 400, replace=False))
    full = ind.percentile_rank(x, 200, 20)
    np.testing.assert_array_equal(ind.percentile_rank_at(x, rows, 200, 20), full[rows])
    with pytest.raises(ValueError, match="out of range"):
        ind.percentile_rank_at(x, np.array([len(x)]), 200, 20)
