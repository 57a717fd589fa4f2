"""MatplotlibChartRenderer: the ChartRenderer port over the chart modules (Agg, Figure API)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from trader.adapters.charts.candles import render_candles
from trader.adapters.charts.equity import render_equity
from trader.adapters.charts.performance import render_monthly_heatmap, render_pair_pnl
from trader.adapters.charts.portfolio import render_portfolio
from trader.adapters.charts.tax_summary import render_tax_summary
from trader.adapters.charts.theme import theme as theme_named
from trader.core.analytics.curve import monthly_returns
from trader.core.analytics.portfolio import BasketValuation
from trader.core.analytics.tables import PerformanceRow
from trader.core.analytics.tax.report import CgtReport
from trader.ports.charts import CandleChart


class MatplotlibChartRenderer:
    """Render every chart to PNG bytes; stateless and safe to call from worker threads."""

    def candles(self, chart: CandleChart, theme: str = "light") -> bytes:
        """Return a candlestick chart with volume, overlays, markers and price levels."""
        return render_candles(chart, theme_named(theme))

    def equity(self, equity: pd.Series, title: str = "Equity", theme: str = "light") -> bytes:
        """Return an equity curve with its drawdown panel."""
        return render_equity(equity, title, theme_named(theme))

    def monthly_returns(self, equity: pd.Series, title: str = "Monthly returns",
                        theme: str = "light") -> bytes:
        """Return the monthly returns heatmap of an equity curve."""
        return render_monthly_heatmap(monthly_returns(equity), title, theme_named(theme))

    def pair_pnl(self, rows: Sequence[PerformanceRow], quote: str = "USDT", theme: str = "light") -> bytes:
        """Return PnL bars per pair."""
        return render_pair_pnl(rows, quote=quote, theme=theme_named(theme))

    def tax_summary(self, report: CgtReport, theme: str = "light") -> bytes:
        """Return the one-page summary of a CGT report."""
        return render_tax_summary(report, theme_named(theme))

    def portfolio(self, valuation: BasketValuation, theme: str = "light") -> bytes:
        """Return a valued basket: value by category and the best and worst performers."""
        return render_portfolio(valuation, theme_named(theme))
