"""The compiled run's curve money booked in ``ScaledArray`` equals the Decimal booking (the records'): the
same values, the same float bits, the same equity curve; where it cannot be exact the Decimal booking runs."""

from __future__ import annotations

import decimal
from dataclasses import fields
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.unit.core.backtest.test_fast_path import BRISK, INERT, trade_rows
from trader.core.backtest import compiled_records
from trader.core.backtest.api import run_backtest
from trader.core.backtest.compiled_records import (
    TRADE,
    X_END,
    X_SIGNAL,
    X_STOP,
    X_TAKE,
    book_fills,
    book_money,
    book_scaled,
)
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import Symbol
from trader.core.domain.market import MarketSpec
from trader.core.domain.scaled import ScaledArray
from trader.core.sim.costs import FeeModel, SlippageModel
from trader.core.strategies.base import SignalFrame
from trader.core.strategies.registry import create

WIDE = decimal.Context(prec=200, Emin=-10_000, Emax=10_000)
BTC, ETH = Symbol("BTC/USDT"), Symbol("ETH/USDT")
HOUR = 3_600_000
rates = st.builds(lambda m, k: Decimal(m).scaleb(-k), st.integers(0, 999), st.integers(3, 6))


def bits(values: np.ndarray) -> list[int]:
    return np.asarray(values, dtype=np.float64).view(np.int64).tolist()  # type: ignore[no-any-return]


def market(step: Decimal) -> MarketSpec:
    return MarketSpec(BTC, "BTC", "USDT", amount_step=step, price_step=Decimal("0.01"), min_amount=step,
                      min_cost=Decimal(1), maker_fee=Decimal("0.0002"), taker_fee=Decimal("0.00075"))


def rows(prices: list[float], opens: list[float], steps: list[int], kinds: list[int]) -> np.ndarray:
    """TRADE rows of the compiled loop as ``book_money`` reads them (exit kind, steps, raw exit price)."""
    done = np.zeros((len(prices), 13))
    done[:, 0], done[:, 3], done[:, 5], done[:, 9] = TRADE, kinds, steps, prices
    done[:, 1] = np.arange(len(prices))
    return done


@st.composite
def trades(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    k = draw(st.integers(0, 6))  # the market's tick 10**-k; prices below 10**10 ticks
    n = draw(st.integers(1, 25))
    ticks = st.lists(st.integers(1, 10**10), min_size=n, max_size=n)
    prices, opens = [m / 10**k for m in draw(ticks)], [m / 10**k for m in draw(ticks)]
    steps = draw(st.lists(st.integers(1, 10**6), min_size=n, max_size=n))
    kinds = draw(st.lists(st.sampled_from([X_STOP, X_TAKE, X_SIGNAL, X_END]), min_size=n, max_size=n))
    return rows(prices, opens, steps, kinds), np.array(opens)


@settings(max_examples=300, deadline=None)
@given(trades(), st.integers(0, 8), st.none() | rates, rates)
def test_scaled_booking_equals_the_decimal_booking(case: tuple[np.ndarray, np.ndarray], step: int,
                                                   fee: Decimal | None, slip: Decimal) -> None:
    done, opens = case
    spec = market(Decimal(1).scaleb(-step))
    chosen = BacktestSettings("breakout", "1h", risk=INERT, fees=None if fee is None else FeeModel.flat(fee),
                              slippage=SlippageModel(slip))
    want = book_money(done, opens, chosen, spec)
    got = book_scaled(done, opens, chosen, spec)
    if got is None:  # a product beyond int64: the caller books in Decimal (book_fills below)
        return
    for field in fields(want):
        values, decimals = getattr(got, field.name), getattr(want, field.name)
        assert isinstance(values, ScaledArray)
        assert [WIDE.scaleb(Decimal(m), -values.places) for m in values.mantissa.tolist()] == list(decimals)
        assert bits(values.floats()) == bits(decimals.astype(np.float64)), field.name


def frame_of(prices: list[float]) -> CandleFrame:
    n = len(prices)
    close = np.array(prices)
    return CandleFrame(np.arange(n, dtype=np.int64) * HOUR, close, close, close, close, np.ones(n))


def test_prices_without_a_verified_short_decimal_book_in_decimal() -> None:
    price = 0.1 + 0.2  # repr 0.30000000000000004: 17 digits, beyond the verified range
    frame = frame_of([price, price * 3, price * 5, price * 7])
    done = rows([price * 7, price * 5], [price * 3, price * 5], [12_345, 678], [X_SIGNAL, X_TAKE])
    done[:, 1], done[:, 4] = [0, 1], [3, 2]  # signal candle (entry at the next open), exit candle
    chosen = BacktestSettings("breakout", "1h", risk=INERT, fees=FeeModel.flat(Decimal("0.001")),
                              slippage=SlippageModel(Decimal("0.0005")))
    spec = market(Decimal("0.001"))
    entry_open = frame.open[done[:, 1].astype(np.int64) + 1]
    assert book_scaled(done, entry_open, chosen, spec) is None
    no = np.zeros(4, dtype=bool)
    signals = SignalFrame(frame.timestamp, no, no, no, no, np.ones(4), np.full(4, np.nan), np.full(4, np.nan),
                          np.zeros(4, dtype=np.int64), ())
    out, flows = book_fills(done, frame, signals, BTC, chosen, spec, 4 * HOUR)
    money = book_money(done, entry_open, chosen, spec)
    value = np.column_stack([-money.entry_value.astype(float), money.exit_value.astype(float)]).ravel()
    fee = np.column_stack([money.entry_fee.astype(float), money.exit_fee.astype(float)]).ravel()
    assert bits(flows[2]) == bits(value) and bits(flows[3]) == bits(fee)
    assert [t.amount for t in out] == list(money.amount) and [t.exit_price for t in out] == list(money.exit)


@st.composite
def markets(draw: st.DrawFn) -> tuple[dict[Symbol, CandleFrame], BacktestSettings]:
    """One or two pairs of seeded GBM hourly candles on a random tick, with random costs."""
    seed, count = draw(st.integers(0, 2**32 - 1)), draw(st.integers(1, 2))
    rng = np.random.default_rng(seed)
    candles = {}
    for symbol in (BTC, ETH)[:count]:
        places = int(rng.integers(0, 7))
        close = rng.uniform(0.5, 50_000) * np.exp(np.cumsum(rng.normal(0, 0.02, 800)))
        open_: np.ndarray = np.r_[close[0], close[:-1]]
        wick = np.abs(rng.normal(0, 0.01, (2, 800)))
        high = np.round(np.maximum(open_, close) * (1 + wick[0]), places)
        low = np.round(np.minimum(open_, close) * (1 - wick[1]), places)
        open_, close = np.round(open_, places), np.round(close, places)
        candles[symbol] = CandleFrame(np.arange(800, dtype=np.int64) * HOUR, open_,
                                      np.maximum(high, np.maximum(open_, close)),
                                      np.minimum(low, np.minimum(open_, close)), close, np.ones(800))
    name = draw(st.sampled_from(sorted(BRISK)))
    fee = draw(st.none() | rates)
    chosen = BacktestSettings(name, "1h", risk=INERT, fees=None if fee is None else FeeModel.flat(fee),
                              slippage=SlippageModel(draw(rates)))
    return candles, chosen


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markets())
def test_random_runs_curve_and_records_equal_the_decimal_booking(case: tuple[dict[Symbol, CandleFrame],
                                                                             BacktestSettings]) -> None:
    candles, chosen = case
    strategy = create(chosen.strategy, BRISK[chosen.strategy])
    exact: list[bool] = []

    def counted(*args: Any) -> Any:
        booked = book_scaled(*args)
        exact.append(booked is not None)
        return booked

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(compiled_records, "book_scaled", counted)
        fast = run_backtest(strategy, candles, chosen)
        curve = fast.equity.to_numpy().copy()  # read before any record is built
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(compiled_records, "book_scaled", lambda *_: None)  # Decimal objects throughout
        slow = run_backtest(strategy, candles, chosen)
    assert fast.path == slow.path
    event(f"path {fast.path.split()[0]}, {'with' if len(slow.trades) else 'no'} trades")
    if fast.path != "compiled" or not len(slow.trades):  # the Decimal paths do not book in ScaledArray
        return
    assert exact and all(exact), "tick prices and small costs are within the exact range"
    assert bits(curve) == bits(slow.equity.to_numpy())
    assert trade_rows(fast) == trade_rows(slow)
    assert fast.kpis() == slow.kpis()


def test_records_read_later_are_booked_in_the_runs_decimal_context() -> None:
    frames = {BTC: frame_of([100.0 + (i % 7) * 1.5 - (i % 5) * 0.25 for i in range(400)])}
    chosen = BacktestSettings("breakout", "1h", risk=INERT, fees=FeeModel.flat(Decimal("0.00075")),
                              slippage=SlippageModel(Decimal("0.0003")))
    strategy = create("breakout", BRISK["breakout"])
    now = run_backtest(strategy, frames, chosen)
    built_now = trade_rows(now)
    later = run_backtest(strategy, frames, chosen)
    assert later.path == "compiled" and len(built_now) > 0
    with decimal.localcontext(decimal.Context(prec=6)):  # a reader's context, not the run's
        built_later = trade_rows(later)
    assert built_later == built_now


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-(2**40), 2**40), st.floats(allow_nan=False)), max_size=12),
       st.booleans())
def test_fills_interleave_entry_and_exit_as_column_stack_did(
        trades: list[tuple[int, float]], ints: bool) -> None:
    first = np.array([a for a, _ in trades], dtype=np.int64)
    second = first[::-1].copy() if ints else np.array([b for _, b in trades], dtype=np.float64)
    got = compiled_records._pairs(first, second)
    expected = np.column_stack([first, second]).ravel()
    assert got.dtype == expected.dtype and got.tobytes() == expected.tobytes()
