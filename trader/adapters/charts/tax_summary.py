"""One-page PNG summary of an ATO capital gains report: the totals and the gain or loss per asset."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from trader.adapters.charts.canvas import new_figure, set_title, style_axes, to_png
from trader.adapters.charts.theme import LIGHT, Theme
from trader.core.analytics.tax.export import summary_rows
from trader.core.analytics.tax.report import CgtReport

_SHOWN = (
    "financial_year", "parcel_matching_method", "disposals", "total_capital_gains_aud",
    "total_capital_losses_aud", "capital_losses_before_records_aud", "prior_year_losses_brought_forward_aud",
    "prior_year_losses_applied_aud", "discount_eligible_gains_aud", "cgt_discount_aud",
    "net_capital_gain_aud", "losses_carried_forward_aud",
)


def render_tax_summary(report: CgtReport, theme: Theme = LIGHT) -> bytes:
    """Return the report's summary table and per-asset net gains as PNG bytes."""
    return to_png(tax_summary_figure(report, theme))


def tax_summary_figure(report: CgtReport, theme: Theme = LIGHT) -> Figure:
    """Return the summary page as a figure (the text axes first, the per-asset bars second)."""
    fig = new_figure(theme)
    text_ax, bar_ax = fig.subplots(2, 1, height_ratios=(3, 2))
    fig.subplots_adjust(left=0.12, hspace=0.25)
    text_ax.axis("off")
    rows = dict(summary_rows(report))
    # descriptive rows as they are; amounts as a monospaced table whose decimal points line up
    amounts = [key for key in _SHOWN if key.endswith("_aud")]
    width = max(len(_name(key)) for key in amounts) + 1
    values = {key: _value(key, rows[key]) for key in amounts}
    digits = max(len(v) for v in values.values())
    lines = [f"{_name(key)}:  {rows[key]}" for key in _SHOWN if key not in values]
    lines += [f"{_name(key) + ':':<{width}}  {values[key]:>{digits}}" for key in amounts]
    text_ax.text(0.0, 1.0, "\n".join(lines), va="top", ha="left", family="monospace",
                 fontsize=theme.font_size - 1, color=theme.text, transform=text_ax.transAxes, linespacing=1.5)
    set_title(text_ax, f"Capital gains {report.financial_year.label} (ATO)", theme)
    style_axes(bar_ax, theme)
    per_asset: dict[str, Decimal] = {}
    for line in report.lines:
        per_asset[line.asset] = per_asset.get(line.asset, Decimal(0)) + line.gain
    if per_asset:
        assets = sorted(per_asset, key=lambda a: per_asset[a])
        gains = [float(per_asset[a]) for a in assets]
        bar_ax.barh(np.arange(len(assets)), gains, height=0.6,
                    color=[theme.up if v >= 0 else theme.down for v in gains])
        bar_ax.set_yticks(range(len(assets)), assets)
        bar_ax.axvline(0, color=theme.text, linewidth=0.8)
        span = max(abs(v) for v in gains) or 1.0
        bar_ax.set_xlim(min(*gains, 0) - span * 0.25, max(*gains, 0) + span * 0.25)
        for row, value in enumerate(gains):
            bar_ax.text(value + (span * 0.02 if value >= 0 else -span * 0.02), row, f"{value:,.2f}",
                        va="center", ha="left" if value >= 0 else "right", color=theme.text,
                        fontsize=theme.font_size - 1)
        bar_ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    else:
        bar_ax.text(0.5, 0.5, "no disposals in this year", ha="center", va="center", color=theme.text,
                    transform=bar_ax.transAxes)
    bar_ax.set_xlabel("capital gain (loss) before discount, AUD")
    return fig


def _name(key: str) -> str:
    return key.replace("_aud", " (AUD)").replace("_", " ")


def _value(key: str, value: str) -> str:
    return f"{Decimal(value):,.2f}" if key.endswith("_aud") else value
