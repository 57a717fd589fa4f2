"""Pairs backtest: a mean-reverting synthetic pair makes money with hedged legs; a refused leg leaves the
account flat (unwound, only fees lost); signals never use later candles; bundled ETH/BTC runs."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from trader.core.backtest.pairs import PairSettings, run_pairs
from trader.core.domain.candles import CandleFrame
from trader.core.strategies.pairs import PairParams, aligned, compute_pair

H = 3_600_000
SAMPLE = Path(__file__).resolve().parents[4] / "trader" / "data" / "sample"
PARAMS = PairParams(window=120, halflife=24, entry_z=2.0, exit_z=0.0, stop_z=6.0)


def frame(log_close: np.ndarray) -> CandleFrame:
    close = np.exp(log_close)
    open_ = np.r_[close[0], close[:-1]]
    ts = 1_700_000_000_000 - 1_700_000_000_000 % H + np.arange(len(close), dtype=np.int64) * H
    high, low = np.maximum(open_, close), np.minimum(open_, close)
    return CandleFrame(ts, open_, high, low, close, np.ones(len(close)))


def synthetic(n: int = 3000, seed: int = 5) -> tuple[CandleFrame, CandleFrame]:
    rng = np.random.default_rng(seed)
    log_x = np.log(100) + np.cumsum(rng.normal(0, 0.01, n))
    deviation = np.zeros(n)
    for i in range(1, n):  # an Ornstein-Uhlenbeck gap that closes with a half-life of ~10 candles
        deviation[i] = 0.93 * deviation[i - 1] + rng.normal(0, 0.006)
    return frame(np.log(50) + 1.0 * log_x + deviation), frame(log_x)


def test_a_mean_reverting_pair_trades_both_sides_hedged_and_profits() -> None:
    y, x = synthetic()
    result = run_pairs(y, x, PARAMS, PairSettings(fee=Decimal("0.0005")), ("Y/USDT", "X/USDT"))
    sides = {t.side for t in result.trades}
    assert len(result.trades) >= 20 and sides == {1, -1}
    assert result.end_equity > 10_000 * 1.05 and result.failed_groups == 0
    for t in result.trades:
        notional_y, notional_x = t.amounts[0] * t.entry[0], t.amounts[1] * t.entry[1]
        assert abs(notional_x / notional_y - Decimal(repr(t.beta))) < Decimal("0.05")  # legs sized by beta
        assert t.closed_at > t.opened_at
    total = sum(t.pnl for t in result.trades)
    assert abs(float(total) - (result.end_equity - 10_000)) < 1e-6  # flat between groups: PnL is equity


def test_a_refused_leg_is_unwound_and_the_account_is_left_flat() -> None:
    y, x = synthetic()
    for leg in (0, 1):
        result = run_pairs(y, x, PARAMS, PairSettings(reject_leg=leg))
        assert result.trades == () and result.failed_groups >= 20
        # the other leg was bought (or sold short) and sent straight back: only its two fees were paid
        assert 10_000 * 0.97 < result.end_equity <= 10_000


def test_signals_on_a_prefix_equal_the_whole_history() -> None:
    y, x = synthetic(1500)
    whole = compute_pair(y, x, PARAMS)
    for cut in (200, 777, 1499):
        part = compute_pair(y.slice(0, cut), x.slice(0, cut), PARAMS)
        np.testing.assert_array_equal(part.zscore, whole.zscore[:cut])
        np.testing.assert_array_equal(part.enter_long, whole.enter_long[:cut])
        np.testing.assert_array_equal(part.beta, whole.beta[:cut])


def test_bundled_eth_btc_runs_with_the_defaults() -> None:
    eth = CandleFrame.from_dataframe(pd.read_csv(SAMPLE / "ETH_USDT-1h.csv.gz"))
    btc = CandleFrame.from_dataframe(pd.read_csv(SAMPLE / "BTC_USDT-1h.csv.gz"))
    y, _ = aligned(eth, btc)
    result = run_pairs(eth, btc, PairParams(), PairSettings(), ("ETH/USDT", "BTC/USDT"))
    assert len(result.equity) == len(y) and len(result.trades) >= 10
    assert 0 < result.max_drawdown < 0.5
