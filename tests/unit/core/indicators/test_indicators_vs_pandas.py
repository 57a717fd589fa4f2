"""Every indicator equals an independent pandas computation of its textbook formula on real candles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.unit.core.indicators import reference
from trader.core import indicators as ind

RTOL = 1e-9


def _close_after_warmup(actual: np.ndarray, expected: pd.Series | np.ndarray, start: int) -> None:
    exp = np.asarray(expected, dtype=np.float64)
    assert actual.shape == exp.shape
    assert np.isnan(actual[:start]).all(), "values before the first full window must be NaN"
    assert not np.isnan(actual[start:]).any(), "every value after the warm-up must be defined"
    np.testing.assert_allclose(actual[start:], exp[start:], rtol=RTOL, atol=0)


@pytest.mark.parametrize("period", [5, 20, 50])
def test_sma_matches_pandas_rolling_mean(candles: pd.DataFrame, period: int) -> None:
    close = candles["close"]
    _close_after_warmup(ind.sma(close, period), close.rolling(period).mean(), period - 1)


@pytest.mark.parametrize("period", [9, 21, 50])
def test_ema_matches_pandas_ewm_seeded_with_sma(candles: pd.DataFrame, period: int) -> None:
    close = candles["close"]
    _close_after_warmup(ind.ema(close, period), reference.ema(close, period), period - 1)


@pytest.mark.parametrize("period", [7, 14])
def test_rsi_matches_wilder_textbook(candles: pd.DataFrame, period: int) -> None:
    close = candles["close"]
    _close_after_warmup(ind.rsi(close, period), reference.rsi(close, period), period)


@pytest.mark.parametrize("period", [7, 14])
def test_atr_matches_wilder_true_range_average(candles: pd.DataFrame, period: int) -> None:
    actual = ind.atr(candles["high"], candles["low"], candles["close"], period)
    _close_after_warmup(actual, reference.atr(candles, period), period)


@pytest.mark.parametrize("period", [7, 14])
def test_adx_matches_wilder_directional_movement(candles: pd.DataFrame, period: int) -> None:
    actual = ind.adx(candles["high"], candles["low"], candles["close"], period)
    _close_after_warmup(actual, reference.adx(candles, period), 2 * period - 1)


def test_macd_matches_ema_difference_once_emas_converged(candles: pd.DataFrame) -> None:
    # TA-Lib starts the fast EMA late so both EMAs begin together; the textbook seeds each at its own
    # first window. They agree once the seeds are forgotten, i.e. after the EMA warm-up.
    close = candles["close"]
    result = ind.macd(close, 12, 26, 9)
    line = reference.ema(close, 12) - reference.ema(close, 26)
    signal = line.iloc[25:].ewm(alpha=2 / 10, adjust=False).mean().reindex(close.index)
    start = ind.ema_warmup(26) + ind.ema_warmup(9)
    scale = float(close.abs().mean())
    np.testing.assert_allclose(result.line[start:], line[start:], rtol=0, atol=RTOL * scale)
    np.testing.assert_allclose(result.signal[start:], signal[start:], rtol=0, atol=RTOL * scale)
    np.testing.assert_allclose(result.histogram, result.line - result.signal, rtol=0, atol=1e-12 * scale)
    assert np.isnan(result.line[: 26 + 9 - 2]).all()


@pytest.mark.parametrize("period", [10, 20])
def test_rolling_extremes_match_pandas(candles: pd.DataFrame, period: int) -> None:
    _close_after_warmup(
        ind.rolling_max(candles["high"], period), candles["high"].rolling(period).max(), period - 1
    )
    _close_after_warmup(
        ind.rolling_min(candles["low"], period), candles["low"].rolling(period).min(), period - 1
    )


def test_bollinger_matches_mean_plus_minus_k_population_sigma(candles: pd.DataFrame) -> None:
    close = candles["close"]
    bands = ind.bollinger(close, 20, 2.5)
    middle = close.rolling(20).mean()
    sigma = reference.exact_std(close, 20)
    _close_after_warmup(bands.middle, middle, 19)
    _close_after_warmup(bands.upper, middle + 2.5 * sigma, 19)
    _close_after_warmup(bands.lower, middle - 2.5 * sigma, 19)
    # The band width itself (a small difference of large prices) is what strategies use.
    _close_after_warmup(bands.upper - bands.middle, 2.5 * sigma, 19)


def test_volume_ratio_matches_volume_over_rolling_mean(candles: pd.DataFrame) -> None:
    volume = candles["volume"]
    expected = volume / volume.rolling(20).mean()
    _close_after_warmup(ind.volume_ratio(volume, 20), expected, 19)


def test_rolling_zscore_matches_pandas(candles: pd.DataFrame) -> None:
    close = candles["close"]
    expected = (close - close.rolling(30).mean()) / reference.exact_std(close, 30)
    actual = ind.rolling_zscore(close, 30)
    assert np.isnan(actual[:29]).all()
    np.testing.assert_allclose(
        actual[29:], expected[29:], rtol=0, atol=RTOL
    )  # z is O(1): absolute = relative


def test_realised_volatility_is_population_std_of_log_returns(candles: pd.DataFrame) -> None:
    returns = np.log(candles["close"]).diff()
    _close_after_warmup(ind.realised_volatility(candles["close"], 30), reference.exact_std(returns, 30), 30)


def test_percentile_rank_matches_pandas_average_rank(candles: pd.DataFrame) -> None:
    vol = pd.Series(ind.realised_volatility(candles["close"], 10))
    lookback, stride = 200, 10
    actual = ind.percentile_rank(vol, lookback, stride)
    first = 10 + lookback
    assert np.isnan(actual[:first]).all()
    samples = lookback // stride
    for i in range(first, len(vol), 97):
        window = vol.iloc[[i - k * stride for k in range(samples, -1, -1)]].reset_index(drop=True)
        rank = window.rank(method="average").iloc[-1]  # 1-based mid-rank among samples + itself
        assert actual[i] == pytest.approx((rank - 1) / samples, rel=RTOL)


def test_regime_labels_follow_volatility_then_adx_rule(candles: pd.DataFrame) -> None:
    adx = ind.adx(candles["high"], candles["low"], candles["close"], 14)
    pct = ind.percentile_rank(ind.realised_volatility(candles["close"], 30), 600, 20)
    labels = ind.regime_labels(adx, pct, adx_threshold=25, high_vol_percentile=0.9)
    frame = pd.DataFrame({"adx": adx, "pct": pct})
    expected = np.select(
        [frame.isna().any(axis=1), frame["pct"] >= 0.9, frame["adx"] >= 25],
        [ind.Regime.UNKNOWN, ind.Regime.HIGH_VOLATILITY, ind.Regime.TRENDING],
        ind.Regime.RANGING,
    )
    np.testing.assert_array_equal(labels, expected)
    assert set(np.unique(labels[630:])) >= {ind.Regime.RANGING, ind.Regime.TRENDING}
