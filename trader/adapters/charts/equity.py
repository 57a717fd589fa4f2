"""Equity curve with a drawdown panel beneath it.

Long curves (a year of minutes is 525,600 points) are reduced to at most ``MAX_POINTS`` before drawing,
keeping each bucket's lowest and highest point so no drawdown or peak disappears from the picture;
the drawdown itself is computed on the full curve first.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.ticker import FuncFormatter

from trader.adapters.charts.canvas import new_figure, set_title, style_axes, to_png
from trader.adapters.charts.theme import LIGHT, Theme
from trader.adapters.charts.timeaxis import time_ticks
from trader.core.analytics.curve import drawdown_series, max_drawdown
from trader.core.analytics.records import check_equity

MAX_POINTS = 2000


def envelope_indices(values: npt.NDArray[np.float64], max_points: int = MAX_POINTS) -> npt.NDArray[np.int64]:
    """Return sorted indices keeping each bucket's min and max (plus the last point), at most ~max_points."""
    n = len(values)
    if n <= max_points:
        return np.arange(n, dtype=np.int64)
    size = int(np.ceil(n / (max_points // 2)))
    whole = (n // size) * size
    blocks = values[:whole].reshape(-1, size)
    starts = np.arange(0, whole, size, dtype=np.int64)
    picks = [starts + blocks.argmin(axis=1), starts + blocks.argmax(axis=1)]
    if whole < n:
        tail = values[whole:]
        picks.append(np.array([whole + int(tail.argmin()), whole + int(tail.argmax())], dtype=np.int64))
    picks.append(np.array([0, n - 1], dtype=np.int64))
    return np.unique(np.concatenate(picks))


def render_equity(equity: pd.Series, title: str = "Equity", theme: Theme = LIGHT) -> bytes:
    """Return the equity curve and its drawdown (in %) as PNG bytes; ValueError for an empty curve."""
    check_equity(equity)
    if len(equity) == 0:
        raise ValueError("equity curve is empty")
    dd_full = drawdown_series(equity).to_numpy() * 100
    values = equity.to_numpy(dtype=np.float64)
    keep = np.union1d(envelope_indices(values), envelope_indices(dd_full))
    index = pd.DatetimeIndex(equity.index)
    times = index.tz_convert("UTC").tz_localize(None).to_numpy()[keep]
    fig = new_figure(theme)
    eq_ax, dd_ax = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    for ax in (eq_ax, dd_ax):
        style_axes(ax, theme)
    eq_ax.plot(times, values[keep], color=theme.line, linewidth=1.4)
    eq_ax.fill_between(times, values[keep], float(values.min()), color=theme.fill, alpha=0.6, linewidth=0)
    eq_ax.axhline(values[0], color=theme.grid, linewidth=1.0, linestyle=":")
    eq_ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.6g}"))
    worst = max_drawdown(equity)
    change = (values[-1] / values[0] - 1) * 100
    set_title(eq_ax, f"{title}   {change:+.2f} %   max drawdown {worst.depth_pct:.2f} %", theme)
    if worst.depth > 0:
        dd_ax.fill_between(times, dd_full[keep], 0, color=theme.down, alpha=0.35, linewidth=0)
        dd_ax.plot(times, dd_full[keep], color=theme.down, linewidth=1.0)
    else:
        dd_ax.text(0.5, 0.5, "no drawdown", ha="center", va="center", color=theme.text,
                   transform=dd_ax.transAxes)
        dd_ax.plot(times, dd_full[keep], alpha=0.0)  # keeps the shared time axis scaled
    dd_ax.set_ylabel("drawdown %")
    dd_ax.set_ylim(min(float(dd_full.min()) * 1.1, -1.0), 0.5)
    epoch_ms = index.as_unit("ms").asi8
    ticks = time_ticks(int(epoch_ms[0]), int(epoch_ms[-1]))
    dd_ax.set_xticks(pd.to_datetime(list(ticks.times), unit="ms").to_numpy(), ticks.labels)
    dd_ax.set_xlabel("UTC")
    return to_png(fig)
