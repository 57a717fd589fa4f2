"""The regime filter labels candles and vetoes entries outside each strategy's regime."""

from __future__ import annotations

import numpy as np
import pytest

from trader.core import indicators as ind
from trader.core import memo
from trader.core.domain.candles import CandleFrame
from trader.core.strategies import registry
from trader.core.strategies.regime import RegimeView

WANTED = {"breakout": ind.Regime.TRENDING, "bollinger_reversion": ind.Regime.RANGING}


def test_regime_view_matches_the_full_indicator_pipeline(btc_1h: CandleFrame) -> None:
    strategy = registry.create("breakout", {})
    labels = RegimeView(strategy, btc_1h).labels()
    adx = ind.adx(btc_1h.high, btc_1h.low, btc_1h.close, 14)
    rank = ind.percentile_rank(ind.realised_volatility(btc_1h.close, 30), 1000, 20)
    np.testing.assert_array_equal(labels, ind.regime_labels(adx, rank, 25.0, 0.9))
    counts = {ind.Regime(code): int((labels == code).sum()) for code in np.unique(labels)}
    assert counts[ind.Regime.UNKNOWN] == 30 + 1000
    assert min(counts[r] for r in (ind.Regime.RANGING, ind.Regime.TRENDING, ind.Regime.HIGH_VOLATILITY)) > 500


@pytest.mark.parametrize("name", list(WANTED))
def test_filter_keeps_only_entries_in_the_strategy_regime(name: str, btc_1h: CandleFrame) -> None:
    filtered = registry.create(name, {}).compute(btc_1h)
    unfiltered = registry.create(name, {"regime_filter": False}).compute(btc_1h)
    labels = RegimeView(registry.create(name, {}), btc_1h).labels()
    for side in ("enter_long", "enter_short"):
        kept, everything = getattr(filtered, side), getattr(unfiltered, side)
        assert not (kept & ~everything).any(), "the filter may only remove entries"
        assert (labels[kept] == WANTED[name]).all()
        np.testing.assert_array_equal(kept, everything & (labels == WANTED[name]))
    assert 0 < filtered.enter_long.sum() < unfiltered.enter_long.sum()


def test_filter_off_allows_entries_during_the_regime_warm_up(btc_1h: CandleFrame) -> None:
    off = registry.create("breakout", {"regime_filter": False})
    on = registry.create("breakout", {})
    assert off.compute(btc_1h).enter_long[:1030].any()
    assert not on.compute(btc_1h).enter_long[:1030].any()


def test_labels_of_rows_inside_a_batch_equal_the_labels_computed_alone(btc_1h: CandleFrame) -> None:
    strategy = registry.create("breakout", {})
    rows = np.flatnonzero(np.arange(len(btc_1h)) % 7 == 3)
    alone = RegimeView(strategy, btc_1h).labels(rows)
    with memo.caching() as cache:
        batched = RegimeView(strategy, btc_1h).labels(rows)
        again = RegimeView(strategy, btc_1h).labels(rows[::2])
    assert cache.hits > 0
    np.testing.assert_array_equal(batched, alone)
    np.testing.assert_array_equal(again, alone[::2])


def test_inputs_are_the_candle_columns_the_labels_read(btc_1h: CandleFrame) -> None:
    # a cache keys regime-filtered rows on these arrays: labels must change when any of them does
    view = RegimeView(registry.create("breakout", {}), btc_1h)
    assert all(a is b for a, b in zip(view.inputs, (btc_1h.high, btc_1h.low, btc_1h.close), strict=True))
