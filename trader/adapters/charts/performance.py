"""Monthly returns heatmap and per-pair PnL bars."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm

from trader.adapters.charts.canvas import new_figure, set_title, style_axes, to_png
from trader.adapters.charts.theme import LIGHT, Theme
from trader.core.analytics.tables import PerformanceRow

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MAX_BARS = 20


def render_monthly_heatmap(monthly: pd.Series, title: str = "Monthly returns", theme: Theme = LIGHT) -> bytes:
    """Return a years x months grid of returns in % (``monthly``: fractions indexed by month, UTC)."""
    if len(monthly) == 0:
        raise ValueError("no monthly returns to draw")
    index = pd.DatetimeIndex(monthly.index)
    years = list(range(int(index.year.min()), int(index.year.max()) + 1))
    grid = np.full((len(years), 12), np.nan)
    cells = (index.year.to_numpy() - years[0], index.month.to_numpy() - 1)
    grid[cells] = monthly.to_numpy(dtype=np.float64) * 100
    fig = new_figure(theme)
    ax = fig.subplots()
    style_axes(ax, theme)
    ax.grid(False)
    limit = max(float(np.nanmax(np.abs(grid))), 0.01)
    image = ax.imshow(np.ma.masked_invalid(grid), cmap="RdYlGn", aspect="auto",
                      norm=TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit))
    for (row, col), value in np.ndenumerate(grid):
        if not np.isnan(value):
            shade = image.cmap(image.norm(value))
            ink = "#000000" if sum(shade[:3]) > 1.5 else "#ffffff"
            ax.text(col, row, f"{value:+.1f}", ha="center", va="center", fontsize=theme.font_size - 1,
                    color=ink)
    totals = np.nanprod(1 + np.nan_to_num(grid, nan=0.0) / 100, axis=1) - 1
    ax.set_xticks(range(12), MONTHS)
    ax.set_yticks(range(len(years)), [f"{y}\n{t * 100:+.1f} %" for y, t in zip(years, totals, strict=True)])
    set_title(ax, f"{title} (%)", theme)
    return to_png(fig)


def render_pair_pnl(rows: Sequence[PerformanceRow], title: str = "PnL by pair", quote: str = "USDT",
                    theme: Theme = LIGHT) -> bytes:
    """Return horizontal PnL bars per pair (largest |PnL| first, at most 20) with trade counts."""
    if not rows:
        raise ValueError("no pairs to draw")
    chosen = sorted(rows, key=lambda r: abs(r.pnl), reverse=True)[:MAX_BARS]
    chosen.sort(key=lambda r: r.pnl)
    values = [float(r.pnl) for r in chosen]
    fig = new_figure(theme)
    fig.subplots_adjust(left=0.2)  # room for pair names
    ax = fig.subplots()
    style_axes(ax, theme)
    positions = np.arange(len(chosen))
    ax.barh(positions, values, color=[theme.up if v >= 0 else theme.down for v in values], height=0.6)
    ax.set_yticks(positions, [r.key for r in chosen])
    ax.axvline(0, color=theme.text, linewidth=0.8)
    span = max(abs(v) for v in values) or 1.0
    ax.set_xlim(min(*values, 0) - span * 0.3, max(*values, 0) + span * 0.3)
    for pos, row, value in zip(range(len(chosen)), chosen, values, strict=True):
        ax.text(value + (span * 0.02 if value >= 0 else -span * 0.02), pos, f"{value:,.2f} ({row.trades})",
                va="center", ha="left" if value >= 0 else "right", color=theme.text,
                fontsize=theme.font_size - 1)
    ax.set_xlabel(f"PnL ({quote}); trades in brackets")
    set_title(ax, title, theme)
    return to_png(fig)
