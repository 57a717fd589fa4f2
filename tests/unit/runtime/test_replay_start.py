"""Where a fresh replay starts, and the paper-versus-backtest cost notice printed at start."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from trader.config.sections import BacktestConfig, ExchangeConfig
from trader.core.backtest.lanes import Lane
from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import Symbol
from trader.core.strategies.registry import create
from trader.runtime.costs import cost_notice
from trader.runtime.replay import LEAD_CANDLES, first_entry_ms

SAMPLE = Path(__file__).resolve().parents[3] / "trader" / "data" / "sample"
BTC, ETH = Symbol("BTC/USDT"), Symbol("ETH/USDT")


def _hourly(name: str) -> CandleFrame:
    return CandleFrame.from_dataframe(pd.read_csv(SAMPLE / f"{name}-1h.csv.gz")).slice(0, 400)


def test_the_replay_starts_before_the_backtests_first_entry_even_inside_the_warm_up() -> None:
    # sma_cross(2, 5) signals from its 6th candle on; the old start skipped required_history + 10 candles
    strategy = create("sma_cross", {"fast": 2, "slow": 5})
    frames = {BTC: _hourly("BTC_USDT"), ETH: _hourly("ETH_USDT")}
    firsts = [int(Lane.build(s, f, strategy.compute(f), 3_600_000).candidates[0]) for s, f in frames.items()]
    assert min(firsts) < strategy.required_history + 10
    expected = min(int(f.timestamp[k - LEAD_CANDLES]) for f, k in zip(frames.values(), firsts, strict=True))
    assert first_entry_ms(frames, [strategy]) == expected


def test_without_any_entry_signal_the_replay_starts_at_the_first_candle() -> None:
    rows = [[1_704_067_200_000 + i * 3_600_000, 100.0, 100.0, 100.0, 100.0, 1.0] for i in range(60)]
    frame = CandleFrame.from_arrays(np.array(rows))
    assert first_entry_ms({BTC: frame}, [create("sma_cross", {})]) == 1_704_067_200_000


def test_the_cost_notice_names_what_differs_and_the_backtest_flags_that_reproduce_the_paper_account() -> None:
    notice = cost_notice(ExchangeConfig(), BacktestConfig())  # defaults: slippage differs
    assert notice is not None
    assert "slippage 0.050% on paper, 0.000% in backtests" in notice and "fee" not in notice.split(".")[0]
    assert "tradebot backtest --fee 0.001 --slippage 0.0005" in notice
    same = ExchangeConfig(paper_fee=Decimal("0.002"), paper_slippage=Decimal(0))
    assert cost_notice(same, BacktestConfig(fee=Decimal("0.002"))) is None
