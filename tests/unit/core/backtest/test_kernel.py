"""The compiled exit search agrees, candle by candle, with the engine path (sim.matching, positions.trailing).

Both call the same ``domain.price_rules``; what this differential test still catches is the loop
around them: the order of stop check, high-water update, ratchet and close check, and the float
hand-over to and from the Decimal engine (tick snapping, NaN for "no level").
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.unit.core.positions.make import context, market, opened
from trader.config.sections import TrailingConfig
from trader.core.backtest import kernel
from trader.core.backtest.kernel import PositionLevels, find_exit
from trader.core.domain.enums import Direction, OrderPurpose, Side
from trader.core.domain.money import D
from trader.core.positions.machine import apply
from trader.core.positions.position_events import PriceUpdated
from trader.core.positions.state import PositionStatus
from trader.core.positions.trailing import TrailParams, raise_high_water, ratchet
from trader.core.sim.matching import Bar, match_exit, stop_fill_price

MARKET = market()  # tick 0.01


def random_candles(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.01, n))), 2)
    opens = np.round(np.r_[100.0, close[:-1]] * (1 + rng.normal(0, 0.002, n)), 2)
    high = np.round(np.maximum(opens, close) * (1 + np.abs(rng.normal(0, 0.006, n))), 2)
    low = np.round(np.minimum(opens, close) * (1 - np.abs(rng.normal(0, 0.006, n))), 2)
    return opens, high, low, close


def scalar_exit(candles, exit_sig, long: bool, entry: float, levels: tuple[float | None, float | None],
                cfg: TrailingConfig) -> tuple[int, int, Decimal | None, Decimal | None]:
    """Per-candle reference using the Decimal rules of sim.matching and positions.trailing."""
    opens, high, low, close = candles
    stop, tp = levels
    direction = Direction.LONG if long else Direction.SHORT
    side = Side.SELL if long else Side.BUY
    stop_d = None if stop is None else D(stop)
    tp_d = None if tp is None else D(tp)
    hw = D(entry)
    moves = cfg.enabled or cfg.breakeven_at is not None
    for k in range(len(opens)):
        bar = Bar(k, D(float(opens[k])), D(float(high[k])), D(float(low[k])), D(float(opens[k])))
        found = match_exit(side, bar, stop=stop_d, take_profit=tp_d)
        if found is not None:
            code = kernel.STOP if found[0] is OrderPurpose.STOP else kernel.TAKE_PROFIT
            return k, code, found[1].price, stop_d
        before = stop_d
        if moves:
            hw = raise_high_water(hw, bar.high, bar.low, direction)
            stop_d = ratchet(stop_d, hw, D(entry), TrailParams.from_config(cfg, 0.01), direction, MARKET)
            c = D(float(close[k]))
            if stop_d != before and stop_d is not None and (c <= stop_d if long else c >= stop_d):
                return k, kernel.CLOSE, None, before
        if exit_sig[k]:
            return k, kernel.CLOSE, None, before
    return len(opens), kernel.NONE, None, stop_d


trail_configs = st.builds(
    TrailingConfig,
    enabled=st.booleans(),
    distance=st.sampled_from([Decimal("0.01"), Decimal("0.03")]),
    min_step=st.sampled_from([Decimal(0), Decimal("0.002")]),
    activation_profit=st.sampled_from([Decimal(0), Decimal("0.01")]),
    progressive=st.booleans(),
    breakeven_at=st.sampled_from([None, Decimal("0.01")]),
)


@settings(max_examples=150, deadline=None)
@example(  # a short's ratcheted stop equal to the close: float ticks once missed the exit (99.57 + 1 ulp)
    seed=8931, long=False, stop_pct=None, tp_pct=None, signal_every=0,
    cfg=TrailingConfig(enabled=True, distance=Decimal("0.01"), min_step=Decimal(0), progressive=True,
                       activation_profit=Decimal(0), breakeven_at=None),
)
@given(seed=st.integers(0, 10_000), long=st.booleans(), cfg=trail_configs,
       stop_pct=st.sampled_from([None, 0.01, 0.02]), tp_pct=st.sampled_from([None, 0.02, 0.04]),
       signal_every=st.sampled_from([0, 37]))
def test_kernel_matches_scalar_rules(seed: int, long: bool, cfg: TrailingConfig, stop_pct: float | None,
                                     tp_pct: float | None, signal_every: int) -> None:
    opens, high, low, close = random_candles(seed, 300)
    exit_sig = np.zeros(300, dtype=bool)
    if signal_every:
        exit_sig[signal_every::signal_every] = True
    entry = float(opens[0])
    sign = 1 if long else -1
    stop = None if stop_pct is None else round(entry * (1 - sign * stop_pct), 2)
    tp = None if tp_pct is None else round(entry * (1 + sign * tp_pct), 2)
    levels = PositionLevels(long, entry, math.nan if stop is None else stop, math.nan if tp is None else tp,
                            entry)
    got = find_exit((opens, high, low, close), exit_sig, 0, levels, TrailParams.from_config(cfg, 0.01))
    index, code, price, final_stop = scalar_exit((opens, high, low, close), exit_sig, long, entry,
                                                 (stop, tp), cfg)
    assert (got.index, got.code) == (index, code)
    if price is not None:
        assert math.isclose(got.price, float(price), rel_tol=1e-12)
    if final_stop is None:
        assert math.isnan(got.stop)
    else:
        assert math.isclose(got.stop, float(final_stop), rel_tol=1e-12)


def test_stop_checked_before_trailing_moves_on_the_same_candle() -> None:
    # candle 0 rallies to 110 then falls to 103: the 3 % trail from 110 (106.7) must not stop it here.
    opens = np.array([100.0, 104.0])
    high = np.array([110.0, 104.5])
    low = np.array([103.0, 100.0])
    close = np.array([108.0, 101.0])
    cfg = TrailParams(enabled=True, distance=0.03, price_step=0.01)
    got = find_exit((opens, high, low, close), np.zeros(2, bool), 0,
                    PositionLevels(True, 100.0, 95.0, math.nan, 100.0), cfg)
    assert (got.index, got.code) == (1, kernel.STOP)
    assert got.price == 104.0  # opened below the trailed stop 106.70: gap fill at the open


def test_both_touched_returns_both_only_when_detail_exists() -> None:
    opens, high, low, close = np.array([100.0]), np.array([105.0]), np.array([97.0]), np.array([100.0])
    levels = PositionLevels(True, 100.0, 98.0, 104.0, 100.0)
    candles = (opens, high, low, close)
    assert find_exit(candles, np.zeros(1, bool), 0, levels, TrailParams()).code == kernel.STOP
    with_detail = find_exit(candles, np.zeros(1, bool), 0, levels, TrailParams(), has_detail=True)
    assert with_detail.code == kernel.BOTH


def test_ratchet_above_the_close_is_a_close_event_with_the_stop_before_the_candle() -> None:
    # candle 0 spikes to 120 and closes at 112: the 3 % trail (116.40) is above the close.
    opens, high, low, close = (np.array([100.0]), np.array([120.0]), np.array([99.0]), np.array([112.0]))
    cfg = TrailParams(enabled=True, distance=0.03, price_step=0.01)
    got = find_exit((opens, high, low, close), np.zeros(1, bool), 0,
                    PositionLevels(True, 100.0, 95.0, math.nan, 100.0), cfg)
    assert (got.index, got.code, got.stop, got.high_water) == (0, kernel.CLOSE, 95.0, 100.0)


def test_kernel_cache_is_flushed_when_the_price_rules_change() -> None:
    # numba keys its on-disk cache on kernel.py alone; an edited rule in domain/price_rules.py must not
    # keep running its old compiled copy. A stamp of another rules text stands for such an edit.
    candles = (np.array([100.0]), np.array([101.0]), np.array([99.0]), np.array([100.0]))
    find_exit(candles, np.zeros(1, bool), 0, PositionLevels(True, 100.0, 95.0, math.nan, 100.0),
              TrailParams())  # compiled (or loaded) and indexed on disk
    cache = kernel._find_exit._cache
    index = cache._cache_file
    stamp = Path(cache._cache_path) / "_find_exit.rules-sha256"
    current = stamp.read_text(encoding="ascii")
    assert index._load_index()  # the compiled kernel is in the on-disk index
    stamp.write_text("digest of an older price_rules.py", encoding="ascii")
    kernel._flush_stale_cache(kernel._find_exit)
    assert index._load_index() == {}  # nothing compiled from the older rules can be loaded again
    assert stamp.read_text(encoding="ascii") == current


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), long=st.booleans(), cfg=trail_configs,
       signal_every=st.sampled_from([0, 23]))
def test_kernel_matches_the_position_machine(seed: int, long: bool, cfg: TrailingConfig,
                                             signal_every: int) -> None:
    """The kernel vs the engine's own position machine: a resting stop matched by the simulator, then
    ``positions.machine.apply(PriceUpdated)`` (ratchet, stop past the close) on every candle."""
    opens, high, low, close = random_candles(seed, 200)
    exit_sig = np.zeros(200, dtype=bool)
    if signal_every:
        exit_sig[signal_every::signal_every] = True
    direction = Direction.LONG if long else Direction.SHORT
    entry = D(float(opens[0]))
    ctx = context(native_stop=True, trailing=cfg)
    stop = ctx.market.round_stop(entry * (D("0.98") if long else D("1.02")), direction)
    position, _ = opened(ctx, amount="0.1", price=str(entry), stop=str(stop), direction=direction)
    got = find_exit((opens, high, low, close), exit_sig, 0,
                    PositionLevels(long, float(entry), float(stop), math.nan, float(entry)), ctx.trail)
    side = direction.exit_side
    for k in range(200):
        bar = Bar(k, D(float(opens[k])), D(float(high[k])), D(float(low[k])), D(float(close[k])))
        hit = match_exit(side, bar, stop=position.stop_price, take_profit=None)
        if hit is not None:
            assert (got.index, got.code) == (k, kernel.STOP)
            assert got.price == float(stop_fill_price(side, bar, position.stop_price or D(0)))
            return
        before = position.stop_price
        position, _ = apply(position, PriceUpdated(bar.high, bar.low, bar.close), ctx)
        if position.status is PositionStatus.EXITING or exit_sig[k]:
            assert (got.index, got.code) == (k, kernel.CLOSE)
            assert got.stop == float(before or D(0))  # the stop in force when the candle opened
            return
        assert position.stop_price is not None
    assert got.code == kernel.NONE and got.stop == float(position.stop_price)
