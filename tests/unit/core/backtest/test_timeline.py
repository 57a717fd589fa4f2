"""Equity marks: the observations between two steps that can change the risk memory, and no others."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from trader.config.sections import RiskConfig
from trader.core.backtest.lanes import Lane
from trader.core.backtest.timeline import Timeline, trading_days
from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import Symbol
from trader.core.domain.market import MarketSpec
from trader.core.risk.state import RiskState
from trader.core.sim.ledger import SimLedger
from trader.core.strategies.base import SignalFrame

BTC = Symbol("BTC/USDT")
ETH = Symbol("ETH/USDT")
HOUR = 3_600_000
DAY0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC
CFG = RiskConfig(max_drawdown_pct=Decimal("0.10"), daily_loss_limit_pct=Decimal("0.05"))


def timeline(closes: list[float]) -> Timeline:
    n = len(closes)
    c = np.array(closes)
    ts = DAY0 + HOUR * np.arange(n, dtype=np.int64)
    frame = CandleFrame(ts, c, c, c, c, np.ones(n))
    none = np.zeros(n, bool)
    signals = SignalFrame(ts, none, none, none, none, np.ones(n), np.full(n, np.nan), np.full(n, np.nan),
                          np.zeros(n, np.int64), ())
    return Timeline.build({BTC: Lane.build(BTC, frame, signals, HOUR)}, "UTC", "USDT")


def ledger(btc: str) -> SimLedger:
    market = MarketSpec(BTC, "BTC", "USDT", Decimal("0.001"), Decimal("0.01"))
    return SimLedger({"USDT": Decimal(0), "BTC": Decimal(btc)}, [market])


def values(marks: tuple[tuple[object, Decimal], ...]) -> list[float]:
    return [float(v) for _, v in marks]


def test_holding_through_a_peak_and_a_breach_marks_peak_then_breach_only() -> None:
    line = timeline([100, 104, 110, 108, 97, 99, 103, 100])
    risk = RiskState(day=date(2024, 1, 1), peak_equity=Decimal(100), day_start_equity=Decimal(100))
    marks = line.equity_marks(DAY0 + HOUR, DAY0 + 8 * HOUR, ledger("1"), risk, CFG)
    # closes seen: 104 (t=2h) .. 100 (t=7h); 110 is the peak before the first >= 10 % drawdown (97 -> 11.8 %)
    assert values(marks) == [110.0, 97.0]


def test_flat_account_on_the_same_day_needs_no_marks() -> None:
    line = timeline([100.0] * 10)
    risk = RiskState(day=date(2024, 1, 1), peak_equity=Decimal(0))
    assert line.equity_marks(DAY0, DAY0 + 9 * HOUR, ledger("0"), risk, CFG) == ()


def test_first_close_of_a_new_day_is_marked_even_when_flat() -> None:
    line = timeline([100.0] * 30)
    risk = RiskState(day=date(2024, 1, 1))
    marks = line.equity_marks(DAY0, DAY0 + 29 * HOUR, ledger("0"), risk, CFG)
    assert [t.isoformat() for t, _ in marks] == ["2024-01-02T00:00:00+00:00"]  # type: ignore[attr-defined]


def test_daily_loss_breach_is_measured_from_the_new_days_first_close() -> None:
    closes = [100.0] * 23 + [100.0, 99.0, 94.0, 93.0, 95.0]  # day 2 starts at the close 100 (t=24h)
    line = timeline(closes)
    risk = RiskState(day=date(2024, 1, 1), peak_equity=Decimal(200), day_start_equity=Decimal(100))
    strict = CFG.model_copy(update={"max_drawdown_pct": Decimal("0.9")})
    marks = line.equity_marks(DAY0 + 20 * HOUR, DAY0 + 28 * HOUR, ledger("1"), risk, strict)
    assert values(marks) == [100.0, 94.0]  # day roll, then the first close 5 % below it


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(-HOUR, 12 * HOUR), st.floats(-1e6, 1e6), st.floats(0, 10),
                          st.floats(-5, 5)), max_size=12))
def test_fills_add_to_the_equity_as_a_running_sum_in_fill_order(
        fills: list[tuple[int, float, float, float]]) -> None:
    line = timeline([100.0 + k for k in range(10)])
    stamps = [DAY0 + at for at, _, _, _ in fills]
    value = np.array([v for _, v, _, _ in fills])
    fee = np.array([f for _, _, f, _ in fills])
    amount = np.array([a for _, _, _, a in fills])
    got = line.add_fills(np.full(10, 1000.0), stamps, np.array([BTC] * len(fills)), value, fee, amount)
    # the definition: each fill counts from the first close after it (the last close at the latest)
    at = np.minimum(np.searchsorted(line.times, stamps, side="right"), 9)
    flow, held = np.zeros(11), np.zeros(11)
    np.add.at(flow, at, value - fee)
    np.add.at(held, at, amount)
    expected = 1000.0 + np.cumsum(flow)[:-1] + np.cumsum(held)[:-1] * line.closes[BTC]
    assert got.tobytes() == expected.tobytes()


def _divided_days(times: np.ndarray) -> np.ndarray:
    """UTC trading days by integer division, element by element (the first version)."""
    return (times // 86_400_000) * 86_400_000 * 1_000_000


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-(2**40), 2**45), max_size=60), st.booleans(), st.integers(0, 2**45))
def test_utc_trading_days_equal_the_division_sorted_or_not(stamps: list[int], ordered: bool,
                                                            base: int) -> None:
    times = np.asarray(sorted(stamps) if ordered else stamps, dtype=np.int64) + base
    assert trading_days(times, "UTC").tobytes() == _divided_days(times).tobytes()


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 4_000_000_000_000), st.sampled_from([60_000, 3_600_000, 86_400_000]),
       st.integers(2, 3000), st.lists(st.integers(0, 2999), max_size=4))
def test_utc_trading_days_of_candle_times_with_holes_equal_the_division(first: int, tf: int, n: int,
                                                                         holes: list[int]) -> None:
    steps = np.ones(n, dtype=np.int64)
    steps[[h for h in holes if h < n]] = 5_000  # days-long holes: days without a single time
    times = first + np.cumsum(steps) * tf
    assert trading_days(times, "UTC").tobytes() == _divided_days(times).tobytes()


def _numpy_add_fills(line: Timeline, equity: np.ndarray, stamps: list[int], symbols: np.ndarray,
                     value: np.ndarray, fee: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """``add_fills`` as numpy calls (bincount, cumsum per pair): the reference of the compiled pass."""
    at = np.minimum(np.searchsorted(line.times, stamps, side="right"), len(line.times) - 1)
    size = len(line.times) + 1
    flow = np.bincount(at, weights=np.asarray(value - fee, dtype=np.float64), minlength=size)
    equity = equity + np.cumsum(flow)[:-1]
    for symbol, closes in line.closes.items():
        own = symbols == symbol
        if own.any():
            held = np.bincount(at[own], weights=np.asarray(amount[own], dtype=np.float64), minlength=size)
            equity += np.cumsum(held)[:-1] * closes
    return equity


def _lane(symbol: Symbol, first: int, closes: np.ndarray) -> Lane:
    n = len(closes)
    ts = DAY0 + HOUR * (first + np.arange(n, dtype=np.int64))
    none = np.zeros(n, bool)
    signals = SignalFrame(ts, none, none, none, none, np.ones(n), np.full(n, np.nan), np.full(n, np.nan),
                          np.zeros(n, np.int64), ())
    return Lane.build(symbol, CandleFrame(ts, closes, closes, closes, closes, np.ones(n)), signals, HOUR)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(-HOUR, 14 * HOUR), st.sampled_from([BTC, ETH, Symbol("SOL/USDT")]),
                          st.floats(-1e6, 1e6), st.floats(0, 10), st.floats(-5, 5)), max_size=16),
       st.floats(-1e4, 1e4))
def test_fills_of_several_pairs_add_as_the_numpy_passes_did(
        fills: list[tuple[int, Symbol, float, float, float]], start: float) -> None:
    # ETH starts later (its first closes repeat its first open); SOL has no closes: its fills are cash only
    lanes = {BTC: _lane(BTC, 0, 100.0 + np.arange(12.0)), ETH: _lane(ETH, 3, np.linspace(10.0, 20.0, 9))}
    line = Timeline.build(lanes, "UTC", "USDT")
    stamps = [DAY0 + at for at, _, _, _, _ in fills]
    symbols = np.array([s for _, s, _, _, _ in fills], dtype=object)
    value, fee, amount = (np.array([f[k] for f in fills], dtype=np.float64) for k in (2, 3, 4))
    equity = np.full(len(line.times), start)
    got = line.add_fills(equity, stamps, symbols, value, fee, amount)
    assert got.tobytes() == _numpy_add_fills(line, equity, stamps, symbols, value, fee, amount).tobytes()
