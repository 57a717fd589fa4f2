"""Runner fill semantics on hand-made candles with a scripted strategy (the real engine underneath)."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import numpy as np
import pytest

from trader.config.sections import RiskConfig, TrailingConfig
from trader.core.backtest.api import run_backtest
from trader.core.backtest.result import BacktestResult
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import Symbol
from trader.core.errors import DataError
from trader.core.sim.costs import FeeModel, SlippageModel
from trader.core.strategies.base import SignalFrame, Strategy

BTC = Symbol("BTC/USDT")
HOUR = 3_600_000
RISK = RiskConfig(sizing="all_in", max_position_pct=Decimal("0.9"), cooldown_minutes=0,
                  cooldown_after_loss_minutes=0, expected_slippage=Decimal(0))


class Scripted(Strategy):
    """Enter on listed candles with fixed stop/take-profit prices; exit on listed candles."""

    name = "scripted"
    entries: ClassVar[dict[int, tuple[float, float]]] = {}
    exits: ClassVar[set[int]] = set()

    @property
    def required_history(self) -> int:
        return 1

    def compute(self, candles: CandleFrame) -> SignalFrame:
        n = len(candles)
        enter = np.zeros(n, bool)
        leave = np.zeros(n, bool)
        stop = np.full(n, np.nan)
        take = np.full(n, np.nan)
        for i, (s, t) in self.entries.items():
            enter[i], stop[i], take[i] = True, s, t
        for i in self.exits:
            leave[i] = True
        none = np.zeros(n, bool)
        return SignalFrame(candles.timestamp, enter, leave, none, none.copy(), np.ones(n), stop, take,
                           np.zeros(n, np.int64), ("scripted",))


def frame(rows: list[tuple[float, float, float, float]]) -> CandleFrame:
    ts = np.arange(len(rows), dtype=np.int64) * HOUR + 1_700_000_000_000 // HOUR * HOUR
    o, h, low, c = (np.array(col, dtype=float) for col in zip(*rows, strict=True))
    return CandleFrame(ts, o, h, low, c, np.ones(len(rows)))


def run(rows: list[tuple[float, float, float, float]], entries: dict[int, tuple[float, float]],
        exits: set[int] | None = None, *, risk: RiskConfig = RISK, slippage: str = "0",
        detail: CandleFrame | None = None) -> BacktestResult:
    strategy = type("S", (Scripted,), {"entries": entries, "exits": exits or set()})()
    settings = BacktestSettings("scripted", "1h", risk=risk, fees=FeeModel.flat(Decimal("0.001")),
                                slippage=SlippageModel(Decimal(slippage)))
    extra = None if detail is None else {BTC: detail}
    return run_backtest(strategy, {BTC: frame(rows)}, settings, detail=extra)


FLAT = (100.0, 100.5, 99.5, 100.0)


def test_entry_fills_at_next_open_and_stop_on_entry_candle_fills_at_stop() -> None:
    result = run([FLAT, (101.0, 101.5, 97.0, 98.0), FLAT], {0: (98.0, 110.0)})
    trade = result.trades[0]
    assert trade.entry_price == Decimal("101") and trade.exit_price == Decimal("98.00")
    assert trade.exit_reason == "stop_loss" and trade.entry_time == trade.exit_time


def test_gap_through_stop_fills_at_open() -> None:
    result = run([FLAT, (100.0, 100.5, 99.5, 100.0), (96.0, 97.0, 95.0, 96.5), FLAT], {0: (98.0, 110.0)})
    assert result.trades[0].exit_price == Decimal("96")


def test_take_profit_fills_at_its_price_even_when_gapped_over() -> None:
    result = run([FLAT, FLAT, (111.0, 112.0, 110.5, 111.0), FLAT], {0: (98.0, 110.0)})
    assert result.trades[0].exit_price == Decimal("110.00") and result.trades[0].exit_reason == "take_profit"


def test_candle_touching_stop_and_target_assumes_stop_without_detail() -> None:
    result = run([FLAT, FLAT, (100.0, 111.0, 97.0, 100.0), FLAT], {0: (98.0, 110.0)})
    assert result.trades[0].exit_reason == "stop_loss"


def test_detail_candles_decide_a_candle_touching_both() -> None:
    rows = [FLAT, FLAT, (100.0, 111.0, 97.0, 100.0), FLAT]
    minutes = frame([(100.0, 111.0, 99.9, 110.5), (110.5, 110.6, 97.0, 100.0)])
    minutes = CandleFrame(minutes.timestamp // HOUR * 0 + frame(rows).timestamp[2] + np.array([0, 60_000]),
                          minutes.open, minutes.high, minutes.low, minutes.close, minutes.volume)
    result = run(rows, {0: (98.0, 110.0)}, detail=minutes)
    assert result.trades[0].exit_reason == "take_profit"


def test_exit_signal_exits_at_next_open() -> None:
    result = run([FLAT, FLAT, FLAT, (100.7, 101.0, 100.0, 100.5), FLAT], {0: (90.0, 120.0)}, {2})
    trade = result.trades[0]
    assert trade.exit_reason == "signal" and trade.exit_price == Decimal("100.7")


def test_trailing_stop_checks_old_stop_before_ratcheting() -> None:
    risk = RISK.model_copy(update={"trailing": TrailingConfig(enabled=True, distance=Decimal("0.02"),
                                                                 min_step=Decimal(0))})
    # candle 1 runs to 110 and closes at 108.5: the 2 % trail (107.80) starts on candle 2, not on candle 1
    rows = [FLAT, (100.0, 110.0, 99.8, 108.5), (108.5, 109.0, 107.0, 107.5), FLAT]
    trade = run(rows, {0: (95.0, 200.0)}, risk=risk).trades[0]
    assert trade.exit_reason == "trailing_stop" and trade.exit_price == Decimal("107.80")
    assert trade.exit_time > trade.entry_time


def test_open_position_closes_at_last_close_at_end_of_data() -> None:
    result = run([FLAT, FLAT, (100.0, 101.0, 99.0, 100.8)], {0: (90.0, 120.0)})
    assert result.trades[0].exit_reason == "end_of_data" and result.trades[0].exit_price == Decimal("100.8")


def test_all_in_entry_rejected_when_next_open_gaps_up() -> None:
    risk = RISK.model_copy(update={"max_position_pct": Decimal(1)})
    result = run([FLAT, (103.0, 104.0, 102.0, 103.0), FLAT, FLAT, FLAT], {0: (90.0, 120.0), 2: (90.0, 120.0)},
                 risk=risk)
    assert result.refused_orders == 1 and len(result.trades) == 1


def test_equity_curve_ends_at_start_plus_every_trade_pnl() -> None:
    rows = [FLAT, (101.0, 101.5, 97.0, 98.0), FLAT, FLAT, (100.0, 111.0, 99.0, 110.0), FLAT]
    result = run(rows, {0: (98.0, 110.0), 2: (95.0, 110.0)})
    assert len(result.trades) == 2
    expected = result.start_balance + sum(t.pnl for t in result.trades)
    assert result.end_equity == pytest.approx(float(expected), rel=1e-12)
    assert len(result.equity) == len(rows)


def test_no_candles_in_period_is_a_clear_data_error() -> None:
    with pytest.raises(DataError, match="no candles"):
        run_backtest(Scripted(), {BTC: frame([FLAT])}, BacktestSettings("s", "1h"),
                     trade_from_ms=2_000_000_000_000)


def test_timeline_days_in_utc_fast_path_equal_pandas_local_days() -> None:
    import pandas as pd

    from trader.core.backtest.lanes import Lane
    from trader.core.backtest.timeline import Timeline

    candles = frame([FLAT] * 60)
    lane = Lane.build(BTC, candles, Scripted().compute(candles), HOUR)
    fast = Timeline.build({BTC: lane}, "UTC", "USDT").days
    slow = pd.to_datetime(candles.timestamp + HOUR, unit="ms", utc=True)
    assert list(fast) == list(pd.DatetimeIndex(slow).normalize().asi8)
    sydney = Timeline.build({BTC: lane}, "Australia/Sydney", "USDT").days
    local = pd.DatetimeIndex(slow).tz_convert("Australia/Sydney").normalize().asi8
    assert list(sydney) == list(local) and list(sydney) != list(fast)


def test_pyramiding_config_is_refused_with_the_setting_to_change() -> None:
    from trader.core.errors import InputError

    risk = RISK.model_copy(update={"max_positions_per_pair": 2})
    with pytest.raises(InputError, match="max_positions_per_pair = 1"):
        run([FLAT, FLAT], {0: (90.0, 120.0)}, risk=risk)
