"""PNG of a valued basket: value and cost by category, and the best and worst performers.

Numbers on the chart are written by ``trader.core.formatting`` (the one formatter). Stale prices are
named in the title and marked "STALE" beside each mover priced by one, so the image never passes an
old price off as fresh.
"""

from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from trader.adapters.charts.canvas import new_figure, set_title, style_axes, to_png
from trader.adapters.charts.theme import LIGHT, Theme
from trader.core import formatting
from trader.core.analytics.portfolio import AssetValue, BasketValuation

STALE_COLOUR = "#bf8700"


def render_portfolio(valuation: BasketValuation, theme: Theme = LIGHT) -> bytes:
    """Return the basket chart as PNG bytes."""
    return to_png(portfolio_figure(valuation, theme))


def portfolio_figure(valuation: BasketValuation, theme: Theme = LIGHT) -> Figure:
    """Return the basket chart: categories on top, movers below."""
    fig = new_figure(theme)
    cat_ax, mover_ax = fig.subplots(2, 1, height_ratios=(1, 1))
    fig.subplots_adjust(left=0.25, right=0.95, top=0.9, bottom=0.07, hspace=0.35)
    quote = valuation.quote
    headline = (f"{valuation.name}: {formatting.money(valuation.value, quote)} "
                f"({formatting.money(valuation.pnl, quote, sign=True)}, "
                f"{formatting.percent(valuation.pnl_fraction, why='no cost')})")
    stale = valuation.stale
    if stale:
        shown = ", ".join(stale[:6]) + (" ..." if len(stale) > 6 else "")
        fig.text(0.02, 0.955, f"STALE prices: {shown}", color=STALE_COLOUR, fontsize=theme.font_size,
                 ha="left", weight="bold")
    style_axes(cat_ax, theme)
    cats = [c for c in valuation.categories if c.value > 0 or c.cost > 0]
    rows = np.arange(len(cats))
    cat_ax.barh(rows - 0.2, [float(c.cost) for c in cats], height=0.4, color=theme.grid, label="cost")
    cat_ax.barh(rows + 0.2, [float(c.value) for c in cats], height=0.4,
                color=[theme.up if c.pnl >= 0 else theme.down for c in cats], label="value")
    # Long category names wrap onto two lines so they fit the left margin of a phone-sized chart.
    cat_ax.set_yticks(rows, [textwrap.fill(c.title + (" (STALE)" if c.stale else ""), 20) for c in cats],
                      fontsize=theme.font_size - 2)
    cat_ax.invert_yaxis()
    for row, c in enumerate(cats):
        cat_ax.text(float(c.value), row + 0.2, " " + formatting.money(c.value), va="center",
                    color=theme.text, fontsize=theme.font_size - 2)
    cat_ax.margins(x=0.15)  # room for the value labels right of the longest bar
    cat_ax.legend(loc="lower right", fontsize=theme.font_size - 2)
    set_title(cat_ax, headline, theme)
    style_axes(mover_ax, theme)
    movers: list[AssetValue] = list(valuation.best) + [w for w in valuation.worst if w not in valuation.best]
    if movers:
        values = [float(m.pnl_fraction or 0) for m in movers]  # fractions; the axis labels format them
        mover_ax.barh(np.arange(len(movers)), values, height=0.6,
                      color=[theme.up if v >= 0 else theme.down for v in values])
        mover_ax.set_yticks(range(len(movers)), [m.symbol + (" STALE" if m.stale else "") for m in movers])
        for tick, mover in zip(mover_ax.get_yticklabels(), movers, strict=True):
            if mover.stale:
                tick.set_color(STALE_COLOUR)
        mover_ax.invert_yaxis()
        mover_ax.axvline(0, color=theme.text, linewidth=0.8)
        mover_ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: formatting.percent(x, digits=0)))
        mover_ax.margins(x=0.2)  # room for the labels beyond both ends of the bars
        for row, mover in enumerate(movers):
            up = values[row] >= 0
            label = formatting.percent(mover.pnl_fraction)
            mover_ax.text(values[row], row, f" {label}" if up else f"{label} ", va="center",
                          ha="left" if up else "right", color=theme.text, fontsize=theme.font_size - 2)
    set_title(mover_ax, "Best and worst performers (PnL %)", theme)
    return fig
