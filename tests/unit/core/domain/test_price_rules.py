"""Properties of the price rules that the compiled exit search (``backtest.kernel``) relies on."""

from __future__ import annotations

import math

import numba
from hypothesis import given, settings
from hypothesis import strategies as st

from trader.core.backtest import kernel  # noqa: F401 - registers the price rules with numba
from trader.core.domain import price_rules as rules

levels = st.floats(min_value=1e-6, max_value=1e7) | st.just(math.nan)
signs = st.sampled_from([1.0, -1.0])
min_steps = st.floats(min_value=0.0, max_value=0.05) | st.sampled_from([0.0, 0.002])
ticks = st.sampled_from([0.0, 0.01, 0.5, 1e-8, 0.001, 5.0])


@numba.njit(cache=False)
def _compiled_twice(stop: float, level: float, sign: float, min_step: float,
                    price_step: float) -> tuple[float, float]:
    once = rules.ratchet(stop, level, sign, min_step, price_step)
    return once, rules.ratchet(once, level, sign, min_step, price_step)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(deadline=None)  # the first example compiles
@given(levels, levels, signs, min_steps, ticks)
def test_ratchet_is_idempotent(stop: float, level: float, sign: float, min_step: float,
                               price_step: float) -> None:
    # the exit search skips the ratchet while the best price (hence the level) stands still: sound only
    # because a stop the ratchet returned for a level ratchets to itself for that level
    once = rules.ratchet(stop, level, sign, min_step, price_step)
    assert _same(rules.ratchet(once, level, sign, min_step, price_step), once)
    compiled_once, compiled_twice = _compiled_twice(stop, level, sign, min_step, price_step)
    assert _same(compiled_twice, compiled_once)
