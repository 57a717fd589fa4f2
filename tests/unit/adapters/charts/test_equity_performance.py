"""Equity, heatmap, per-pair and tax summary charts: decoded size and content."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from tests.unit.adapters.charts.pngs import decode, pixels_of
from tests.unit.core.analytics.builders import T0, btc_rule_backtest, trade
from tests.unit.core.analytics.tax.test_export import FILLS
from trader.adapters.charts.equity import envelope_indices, render_equity
from trader.adapters.charts.performance import render_monthly_heatmap, render_pair_pnl
from trader.adapters.charts.tax_summary import render_tax_summary
from trader.adapters.charts.theme import DARK, LIGHT
from trader.core.analytics.curve import monthly_returns
from trader.core.analytics.records import equity_curve
from trader.core.analytics.tables import by_pair
from trader.core.analytics.tax import AudRates, build_cgt_report, events_from_fills


def test_envelope_keeps_extremes_and_bounds_point_count() -> None:
    values = np.sin(np.linspace(0, 60, 525_600)) + np.linspace(0, 1, 525_600)
    values[123_457] = -50.0
    keep = envelope_indices(values, 2000)
    assert len(keep) <= 2004 and 123_457 in keep and int(np.argmax(values)) in keep
    assert keep[0] == 0 and keep[-1] == len(values) - 1 and bool(np.all(np.diff(keep) > 0))
    assert list(envelope_indices(values[:10], 2000)) == list(range(10))


def test_equity_chart_has_line_and_drawdown_panel() -> None:
    _, eq = btc_rule_backtest()
    image = decode(render_equity(eq, "BTC rule"))
    assert image.shape[:2] == (900, 1200)
    assert pixels_of(image, LIGHT.line) > 500 and pixels_of(image, LIGHT.down) > 500
    lower = image[650:, :]  # the drawdown panel sits in the bottom quarter
    assert pixels_of(lower, LIGHT.down) > pixels_of(image[:500, :], LIGHT.down)


def test_equity_chart_shows_drawdown_area_only_when_there_is_one() -> None:
    times = [T0 + timedelta(hours=i) for i in range(50)]
    rising = decode(render_equity(equity_curve(times, [100.0 + i for i in range(50)]), theme=DARK))
    dipping = decode(render_equity(equity_curve(times, [100.0 - 30 * np.sin(i / 16) for i in range(50)]),
                                   theme=DARK))
    assert pixels_of(rising, DARK.line) > 300
    assert pixels_of(rising, DARK.down) == 0 and pixels_of(dipping, DARK.down) > 300


def test_heatmap_and_pair_bars_render_and_reject_empty_input() -> None:
    _, eq = btc_rule_backtest()
    heat = decode(render_monthly_heatmap(monthly_returns(eq)))
    assert heat.shape[:2] == (900, 1200)
    rows = by_pair([trade("12", symbol="BTC/USDT"), trade("-5", symbol="ETH/USDT")])
    bars = decode(render_pair_pnl(rows, theme=DARK))
    assert pixels_of(bars, DARK.up) > 1000 and pixels_of(bars, DARK.down) > 500
    with pytest.raises(ValueError, match="no monthly returns"):
        render_monthly_heatmap(pd.Series([], dtype=float))
    with pytest.raises(ValueError, match="no pairs"):
        render_pair_pnl([])


def test_tax_summary_page_renders_report() -> None:
    report = build_cgt_report(events_from_fills(FILLS, AudRates([])), 2024)
    image = decode(render_tax_summary(report))
    assert image.shape[:2] == (900, 1200) and pixels_of(image, LIGHT.down) > 1000
    empty = build_cgt_report([], 2024)
    assert decode(render_tax_summary(empty)).shape[:2] == (900, 1200)
