"""services.param_history: the parameters in force over time, from the configuration and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from trader.config.sections import RiskConfig, StrategyEntry
from trader.core.backtest.regimes import regime_signals
from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import Symbol
from trader.core.strategies.registry import create, default_registry
from trader.ports.store import AuditEntry
from trader.services.audit import change_detail
from trader.services.param_history import parameter_changes, parse_change, regimes

SAMPLE = Path(__file__).resolve().parents[3] / "trader" / "data" / "sample" / "BTC_USDT-1h.csv.gz"

T0 = datetime(2024, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def change(at: datetime, key: str, old: str, new: str, result: str = "ok") -> AuditEntry:
    return AuditEntry(at, "telegram:42", "param.change", change_detail(key, old, new), result)


def test_only_accepted_parameter_changes_are_read() -> None:
    entries = [change(T0 + DAY, "breakout.lookback", "20", "30"),
               change(T0, "risk.risk_per_trade", "0.01", "0.02"),
               change(T0, "breakout.lookback", "20", "999999", result="refused: out of bounds"),
               AuditEntry(T0, "telegram:42", "pause", "paused")]
    found = parameter_changes(entries)
    assert [(c.at, c.change.key, c.change.new) for c in found] == [
        (T0, "risk.risk_per_trade", "0.02"), (T0 + DAY, "breakout.lookback", "30")]
    assert parse_change(AuditEntry(T0, "x", "param.change", "no arrow here")) is None


def test_regimes_start_with_what_was_in_force_and_split_at_each_change_inside() -> None:
    entries = [change(T0 - DAY, "breakout.lookback", "20", "25"),
               change(T0 + DAY, "risk.risk_per_trade", "0.01", "0.02"),
               change(T0 + 2 * DAY, "breakout.lookback", "25", "30"),
               change(T0 + 9 * DAY, "breakout.lookback", "30", "40")]  # after the period
    found = regimes(RiskConfig(), [StrategyEntry(name="breakout")], default_registry(),
                    parameter_changes(entries), T0, T0 + 5 * DAY)
    assert [r.start for r in found] == [None, T0 + DAY, T0 + 2 * DAY]
    assert [r.strategies[0].params.get("lookback") for r in found] == [25, 25, 30]
    assert [r.risk.risk_per_trade for r in found] == [Decimal("0.01"), Decimal("0.02"), Decimal("0.02")]
    assert found[2].changes[0].change.key == "breakout.lookback"


def test_a_stored_change_the_configuration_no_longer_accepts_is_skipped() -> None:
    entries = [change(T0 + DAY, "retired_strategy.lookback", "1", "2")]
    found = regimes(RiskConfig(), [StrategyEntry(name="breakout")], default_registry(),
                    parameter_changes(entries), T0, T0 + 5 * DAY)
    assert len(found) == 1


def test_stitched_signals_take_each_row_from_the_parameters_in_force_at_its_close() -> None:
    frame = CandleFrame.from_dataframe(pd.read_csv(SAMPLE)).slice(0, 4000)
    slow, fast = create("breakout", {"lookback": 40}), create("breakout", {"lookback": 5})
    hour = 3_600_000
    switch = int(frame.timestamp[2000]) + hour  # the close of candle 2000: rows from 2000 on are fast's
    stitched = regime_signals([(0, slow), (switch, fast)], {Symbol("BTC/USDT"): frame}, hour)[
        Symbol("BTC/USDT")]
    a, b = slow.compute(frame), fast.compute(frame)
    assert np.array_equal(stitched.enter_long[:2000], a.enter_long[:2000])
    assert np.array_equal(stitched.enter_long[2000:], b.enter_long[2000:])
    assert np.array_equal(stitched.stop_loss[2000:], b.stop_loss[2000:], equal_nan=True)
    assert np.array_equal(stitched.reasons[:2000], a.reasons[:2000])
    # the parameters really change the signals on both sides of the switch
    assert not np.array_equal(a.enter_long[2000:], b.enter_long[2000:])
    assert not np.array_equal(a.enter_long[:2000], b.enter_long[:2000])
