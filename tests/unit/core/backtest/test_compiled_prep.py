"""The compiled run's set-up and curve, rewritten for speed, against the code they replaced: same bits."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trader.core.analytics.records import _ms_index, check_equity
from trader.core.backtest import compiled_rules
from trader.core.backtest.compiled import _refused
from trader.core.backtest.compiled_records import REFUSED, REJECTED, TRADE, _curve
from trader.core.backtest.stops import RefusalCount
from trader.core.backtest.timeline import trading_days
from trader.core.domain.candles import ms_to_datetime

MINUTE = 60_000
finite = st.floats(-1e9, 1e9, allow_nan=False)


def old_curve(start: float, where: np.ndarray, flows: np.ndarray, amounts: np.ndarray,
              closes: np.ndarray) -> np.ndarray:
    """book_trades' numpy arithmetic before ``_curve``."""
    n = len(closes)
    equity = np.full(n, start)
    flow = np.zeros(n + 1)
    np.add.at(flow, where, flows)
    equity += np.cumsum(flow)[:-1]
    holding = np.zeros(n + 1)
    np.add.at(holding, where, amounts)
    equity += np.cumsum(holding)[:-1] * closes
    return equity


@st.composite
def fills(draw: st.DrawFn) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 40))
    count = draw(st.integers(0, 30))
    where = np.array(draw(st.lists(st.integers(0, n - 1), min_size=count, max_size=count)), dtype=np.int64)
    if draw(st.booleans()):  # a pair's fills are in candle order (the sparse sweep); else the dense sums
        where = np.sort(where)
    flows = np.array(draw(st.lists(finite, min_size=count, max_size=count)))
    amounts = np.array(draw(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=count, max_size=count)))
    closes = np.array(draw(st.lists(st.floats(1e-6, 1e7), min_size=n, max_size=n)))
    return draw(st.floats(1.0, 1e9)), where, flows, amounts, closes


@settings(max_examples=500, deadline=None)
@given(fills())
def test_curve_is_the_numpy_arithmetic_bit_for_bit(case: tuple[float, np.ndarray, np.ndarray, np.ndarray,
                                                                np.ndarray]) -> None:
    start, where, flows, amounts, closes = case
    new, old = _curve(start, where, flows, amounts, closes), old_curve(start, where, flows, amounts, closes)
    assert new.view(np.int64).tolist() == old.view(np.int64).tolist()  # signs of zero included


def test_curve_on_a_year_of_minutes_with_sorted_fills() -> None:
    rng = np.random.default_rng(3)
    n = 525_600
    closes = 30_000 * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))
    where = np.sort(rng.integers(0, n, 6_000))
    flows, amounts = rng.normal(0, 1e4, 6_000), rng.normal(0, 0.3, 6_000)
    new, old = _curve(1e4, where, flows, amounts, closes), old_curve(1e4, where, flows, amounts, closes)
    assert new.view(np.int64).tolist() == old.view(np.int64).tolist()


def old_ms_index(times: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(times.astype("datetime64[ms]").astype("datetime64[ns]")).tz_localize("UTC")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-2_000_000_000_000, 7_000_000_000_000), max_size=20))
def test_ms_index_equals_the_unit_casts(times: list[int]) -> None:
    stamps = np.array(sorted(times), dtype=np.int64)
    new, old = _ms_index(stamps), old_ms_index(stamps)
    assert new.equals(old) and new.dtype == old.dtype and str(new.tz) == "UTC"
    assert new.equals(pd.to_datetime(stamps, unit="ms", utc=True))


def test_check_equity_refuses_as_before() -> None:
    index = _ms_index(np.arange(3, dtype=np.int64) * MINUTE)
    for values, words in (([1.0, np.nan, 2.0], "NaN or infinite"), ([1.0, np.inf, 2.0], "NaN or infinite"),
                          ([1.0, 0.0, 2.0], "stay positive"), ([1.0, -3.0, 2.0], "stay positive")):
        with pytest.raises(ValueError, match=words):
            check_equity(pd.Series(values, index=index))
    ok = pd.Series([1.0, 2.0, 3.0], index=index)
    assert check_equity(ok) is ok
    assert check_equity(pd.Series([], index=_ms_index(np.zeros(0, dtype=np.int64)), dtype=float)).empty


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 4_000_000_000_000), st.sampled_from([MINUTE, 15 * MINUTE, 3_600_000, 86_400_000]),
       st.integers(1, 300), st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]),
       st.lists(st.integers(0, 299), max_size=3))
def test_clock_days_equal_two_trading_day_passes(first: int, tf: int, n: int, timezone: str,
                                                 gaps: list[int]) -> None:
    steps = np.ones(n, dtype=np.int64)
    steps[[g for g in gaps if g < n]] = 3  # some series have holes: then a close is not the next open
    opens = first + np.concatenate([[0], np.cumsum(steps[:-1])]).astype(np.int64) * tf
    closes = opens + tf
    open_day, close_day = compiled_rules.clock_days(opens, closes, timezone)
    assert open_day.tolist() == trading_days(opens, timezone).tolist()
    assert close_day.tolist() == trading_days(closes, timezone).tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.floats(0, 1), st.sampled_from([0.3, 0.30000000000000004, 0.29999999999999993,
                                                            float("nan"), -0.1, 1.5])), min_size=1,
                max_size=40),
       st.sampled_from(["0", "0.3", "0.5", "0.75"]), st.data())
def test_floor_at_the_candidates_is_the_full_floor_there(confidence: list[float], floor: str,
                                                         data: st.DataObject) -> None:
    values = np.array(confidence)
    n = len(values)
    sides = np.array(data.draw(st.lists(st.sampled_from([-1, 0, 1]), min_size=n, max_size=n)), dtype=np.int64)
    rows = np.flatnonzero(sides)
    low = compiled_rules.below_floor_at(values, rows, sides > 0, Decimal(floor))
    full = compiled_rules.below_floor(values, sides > 0, Decimal(floor))
    assert low[rows].tolist() == full[rows].tolist()
    assert not low[sides == 0].any()


def old_refused(rows: np.ndarray, opens_ms: np.ndarray, tf: int) -> list[tuple[int, int]]:
    refused = []
    for kind, k, code, exit_k in rows[:, :5][:, [0, 1, 2, 4]].tolist():
        if kind == REFUSED:
            refused.append((int(opens_ms[int(k)]) + tf, int(code)))
        elif kind == TRADE and code > 0:
            refused.append((int(opens_ms[int(exit_k)]), int(code)))
    return refused


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([REFUSED, REJECTED, TRADE]), st.integers(0, 49), st.integers(0, 9),
                          st.integers(0, 49)), max_size=30))
def test_refusals_in_row_order(rows_given: list[tuple[int, int, int, int]]) -> None:
    rows = np.zeros((len(rows_given), 12))
    for i, (kind, k, code, exit_k) in enumerate(rows_given):
        rows[i, [0, 1, 2, 4]] = kind, k, code, exit_k
    opens = 1_700_000_000_000 + np.arange(50, dtype=np.int64) * MINUTE
    assert _refused(rows, opens, MINUTE) == old_refused(rows, opens, MINUTE)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()), min_size=1,
                max_size=30), st.booleans())
def test_entry_sides_as_before(flags: list[tuple[bool, bool, bool, bool]], allow_short: bool) -> None:
    el, xl, es, xs = (np.array(column) for column in zip(*flags, strict=True))

    class Signals:
        enter_long, exit_long, enter_short, exit_short = el, xl, es, xs

    long = el & ~xl
    short = es & ~xs & ~long if allow_short else np.zeros_like(long)
    sides = compiled_rules.entry_sides(Signals, allow_short)  # type: ignore[arg-type]
    assert sides.dtype == np.int64
    assert sides.tolist() == (long.astype(np.int64) - short.astype(np.int64)).tolist()
    same_sides, rows = compiled_rules.entry_rows(Signals, allow_short)  # type: ignore[arg-type]
    assert same_sides.tolist() == sides.tolist()
    assert rows.tolist() == np.flatnonzero(sides).tolist()  # the candidates the loop was given before


def _refusal_counts_per_refusal(refused: list[tuple[int, int]]) -> tuple[RefusalCount, ...]:
    """``refusal_counts`` dating and building a count at every refusal (the first version)."""
    counts: dict[str, RefusalCount] = {}
    for at_ms, code in refused:
        at = ms_to_datetime(at_ms)
        reason = compiled_rules.REASONS[code - 1].value
        seen = counts.get(reason)
        counts[reason] = RefusalCount(reason, 1, at, at) if seen is None \
            else RefusalCount(reason, seen.count + 1, seen.first, at)
    return tuple(sorted(counts.values(), key=lambda r: (-r.count, r.first)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, len(compiled_rules.REASONS))), max_size=40))
def test_refusal_counts_equal_the_count_built_per_refusal(refusals: list[tuple[int, int]]) -> None:
    refused = [(1_704_067_200_000 + 60_000 * at, code) for at, code in sorted(refusals)]  # in time order
    assert compiled_rules.refusal_counts(refused) == _refusal_counts_per_refusal(refused)
