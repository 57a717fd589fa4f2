"""The compiled loops' cache hint: it emits the CPU's prefetch and changes no value."""

from __future__ import annotations

import numba
import numpy as np

from trader.core.backtest.prefetch import prefetch


@numba.njit(cache=False)
def _sum_with_hints(values: np.ndarray, flags: np.ndarray) -> float:
    total = 0.0
    for i in range(len(values)):
        ahead = min(i + 16, len(values) - 1)
        prefetch(values, ahead)
        prefetch(flags, ahead)
        if flags[i]:
            total += values[i]
    return total


def test_prefetch_changes_no_value_and_emits_a_prefetch() -> None:
    values = np.random.default_rng(3).normal(size=1000)
    flags = values > 0.0
    assert _sum_with_hints(values, flags) == sum(v for v in values.tolist() if v > 0.0)
    asm = _sum_with_hints.inspect_asm(_sum_with_hints.signatures[0])
    assert "prefetch" in asm  # x86 prefetcht0 (or another target's prefetch instruction)
