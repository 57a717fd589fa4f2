"""MatplotlibChartRenderer implements the ChartRenderer port; services build specs from the port only."""

from __future__ import annotations

import pytest

from tests.unit.adapters.charts.pngs import decode, pixels_of
from tests.unit.adapters.charts.test_candles import FRAME
from tests.unit.core.analytics.builders import btc_rule_backtest, trade
from trader.adapters.charts.renderer import MatplotlibChartRenderer
from trader.adapters.charts.theme import DARK
from trader.core.analytics.tables import by_pair
from trader.core.analytics.tax import build_cgt_report
from trader.ports.charts import CandleChart, ChartRenderer


def test_renderer_draws_every_chart_through_the_port() -> None:
    renderer: ChartRenderer = MatplotlibChartRenderer()
    _, eq = btc_rule_backtest()
    pngs = [
        renderer.candles(CandleChart("BTC/USDT", FRAME), theme="dark"),
        renderer.equity(eq, "BTC rule", theme="dark"),
        renderer.monthly_returns(eq, theme="dark"),
        renderer.pair_pnl(by_pair([trade("3"), trade("-1", symbol="ETH/USDT")]), theme="dark"),
        renderer.tax_summary(build_cgt_report([], 2024), theme="dark"),
    ]
    for png in pngs:
        image = decode(png)
        assert image.shape[:2] == (900, 1200) and pixels_of(image[:3, :3], DARK.background) == 9


def test_unknown_theme_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown chart theme"):
        MatplotlibChartRenderer().candles(CandleChart("x", FRAME), theme="neon")
