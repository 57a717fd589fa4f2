"""The configured pairs strategy: parameters validated, and the live row (last required_history candles)
equals the whole history's row, as the replay = backtest equality needs."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from trader.core.domain.candles import CandleFrame
from trader.core.errors import StrategyError
from trader.core.strategies.pair_setup import pair_setup
from trader.core.strategies.pairs import PairParams, compute_pair


def frames(n: int, seed: int = 3) -> tuple[CandleFrame, CandleFrame]:
    rng = np.random.default_rng(seed)
    x = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    y = 50 * (x / 100) ** 1.3 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    t = np.arange(n, dtype=np.int64) * 3_600_000
    return tuple(CandleFrame.from_arrays(np.column_stack([t, s, s, s, s, np.ones(n)])) for s in (y, x))  # type: ignore[return-value]


def test_parameters_are_read_with_defaults_and_checked() -> None:
    setup = pair_setup(("ETH/USDT", "BTC/USDT"), {"window": "240", "entry_z": 2, "leg_fraction": 0.25})
    assert (setup.y, setup.x, setup.leg_fraction) == ("ETH/USDT", "BTC/USDT", Decimal("0.25"))
    assert setup.params == PairParams(window=240, entry_z=2.0)
    cases: list[tuple[tuple[str, ...], dict[str, object], str]] = [
        (("ETH/USDT",), {}, "exactly two"), (("A/B", "A/B"), {}, "exactly two"),
        (("A/B", "C/D"), {"zz": 1}, "unknown parameter(s) zz"),
        (("A/B", "C/D"), {"window": "x"}, "not a number"),
        (("A/B", "C/D"), {"stop_z": 1}, "exit_z < entry_z < stop_z")]
    for pairs, params, says in cases:
        with pytest.raises(StrategyError, match=says.replace("(", r"\(").replace(")", r"\)")):
            pair_setup(pairs, params)


@pytest.mark.parametrize("n", [700, 900])
def test_the_row_on_the_last_required_history_candles_is_the_whole_historys_last_row(n: int) -> None:
    setup = pair_setup(("Y/USDT", "X/USDT"), {"window": 30, "halflife": 10, "entry_z": 1.5, "stop_z": 6})
    y, x = frames(n)
    assert setup.required_history < n
    whole = compute_pair(y, x, setup.params)
    for end in range(setup.required_history, n + 1, 37):
        row = setup.latest(y.slice(0, end), x.slice(0, end))
        assert row is not None and row.timestamp == int(whole.timestamp[end - 1])
        assert row.zscore == pytest.approx(float(whole.zscore[end - 1]), rel=1e-9, abs=1e-12)
        assert row.beta == float(whole.beta[end - 1])
        flags = (row.enter_long, row.enter_short, row.exit_long, row.exit_short, row.stop_long,
                 row.stop_short)
        assert flags == tuple(bool(a[end - 1]) for a in (whole.enter_long, whole.enter_short, whole.exit_long,
                                                         whole.exit_short, whole.stop_long, whole.stop_short))
