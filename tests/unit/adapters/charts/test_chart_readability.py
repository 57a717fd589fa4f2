"""What a trader reads off a chart: tick labels are the candles' own round times, markers have a legend,
indicators start at the left edge, and no span of equity makes matplotlib warn."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trader.adapters.charts.candles import CandleChart, MarkerKind, TradeMarker, candle_figure, marker_label
from trader.adapters.charts.equity import render_equity
from trader.adapters.charts.timeaxis import DAY_MS, HOUR_MS, candle_positions, time_ticks
from trader.core.analytics.records import equity_curve
from trader.core.domain.candles import CandleFrame, timeframe_ms
from trader.core.domain.enums import Direction
from trader.services.charts import BAND_PERIOD, WARM_UP, visible_bands

DATA = Path(__file__).resolve().parents[4] / "trader" / "data" / "sample"


def frame(timeframe: str, candles: int, offset: int = 7) -> CandleFrame:
    """Return ``candles`` synthetic candles from 2024-04-13 plus ``offset`` candles (not on midnight)."""
    step = timeframe_ms(timeframe)
    start = int(datetime(2024, 4, 13, tzinfo=UTC).timestamp() * 1000) + offset * step
    close = 100 + np.cumsum(np.sin(np.arange(candles) / 5))
    rows = [[start + i * step, c, c + 1, c - 1, c + 0.5, 10.0] for i, c in enumerate(close)]
    return CandleFrame.from_arrays(rows)


def tick_times(chart: CandleChart) -> list[tuple[int, str]]:
    """Return (candle open time, label) for every labelled tick of the rendered volume (time) axis."""
    volume_ax = candle_figure(chart).axes[1]
    ticks = volume_ax.get_xticks()
    labels = [t.get_text() for t in volume_ax.get_xticklabels()]
    out = []
    for x, label in zip(ticks, labels, strict=True):
        assert float(x).is_integer(), f"tick at x={x} is between candles"
        out.append((int(chart.candles.timestamp[int(x)]), label))
    return out


@pytest.mark.parametrize(("timeframe", "candles"), [("1h", 200), ("1h", 100), ("4h", 200), ("15m", 300)])
def test_tick_labels_are_the_candle_times_on_a_fixed_round_step(timeframe: str, candles: int) -> None:
    # the old MaxNLocator picked every 25th or 40th candle: 07:00, 08:00 next day, ... an hour a day off
    chart = CandleChart("x", frame(timeframe, candles))
    ticks = tick_times(chart)
    assert len(ticks) >= 3
    times = [t for t, _ in ticks]
    steps = set(np.diff(times).tolist())
    assert len(steps) == 1, f"uneven tick spacing {steps}"
    step = steps.pop()
    assert DAY_MS % step == 0 or step % DAY_MS == 0, f"step {step / HOUR_MS} h does not divide a day"
    assert all(t % step == 0 for t in times) if step <= DAY_MS else all(t % DAY_MS == 0 for t in times)
    for ms, label in ticks:
        moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
        shown = f"{moment:%H:%M}" if moment.hour or moment.minute or step < DAY_MS else f"{moment:%d %b}"
        assert label.split("\n")[0] == shown, (label, moment)


def test_daily_chart_ticks_on_month_starts_with_the_year_once() -> None:
    chart = CandleChart("x", CandleFrame.from_dataframe(pd.read_csv(DATA / "BTC_USDT-1h.csv.gz"))
                        .resample("1d").tail(200))
    ticks = tick_times(chart)
    moments = [datetime.fromtimestamp(ms / 1000, tz=UTC) for ms, _ in ticks]
    assert all(m.day == 1 and m.hour == 0 for m in moments)
    assert [label.split("\n")[0] for _, label in ticks] == [f"{m:%b}" for m in moments]
    assert str(moments[0].year) in ticks[0][1]


def test_time_ticks_handle_gaps_and_weekly_candles() -> None:
    week = timeframe_ms("1w")
    monday = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1000)
    weekly = np.arange(monday, monday + 30 * week, week, dtype=np.int64)
    ticks = time_ticks(int(weekly[0]), int(weekly[-1]), unit_ms=week)
    positions = candle_positions(weekly, ticks.times, week)
    assert all(0 <= p < len(weekly) for p in positions)
    gap = np.delete(np.arange(0, 48 * HOUR_MS, HOUR_MS, dtype=np.int64), range(20, 30))
    positions = candle_positions(gap, [24 * HOUR_MS, 36 * HOUR_MS], HOUR_MS)
    assert np.isnan(positions[0]) and positions[1] == 26.0  # midnight fell in the gap; 12:00 is slot 26
    with pytest.raises(ValueError, match="ends"):
        time_ticks(10, 5)


def test_entry_and_exit_markers_have_a_legend() -> None:
    candles = frame("1h", 60)
    at = [datetime.fromtimestamp(int(candles.timestamp[i]) / 1000, tz=UTC) for i in (10, 30, 40, 50)]
    markers = [TradeMarker(at[0], 100.0, MarkerKind.ENTRY), TradeMarker(at[1], 101.0, MarkerKind.EXIT),
               TradeMarker(at[2], 102.0, MarkerKind.ENTRY, Direction.SHORT),
               TradeMarker(at[3], 99.0, MarkerKind.EXIT, Direction.SHORT)]
    legend = candle_figure(CandleChart("x", candles, markers=markers)).axes[0].get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == [
        "entry (long, buy)", "entry (short, sell short)", "exit (long, sell)", "exit (short, buy back)"]
    assert marker_label(MarkerKind.EXIT, Direction.SHORT) == "exit (short, buy back)"


def test_bands_have_values_at_the_first_visible_candle() -> None:
    history = CandleFrame.from_dataframe(pd.read_csv(DATA / "BTC_USDT-1h.csv.gz")).resample("4h").tail(80)
    shown, bands = visible_bands(history, 60)
    assert len(shown) == 60 and int(shown.timestamp[0]) == int(history.timestamp[20])
    (band,) = bands
    assert len(band.upper) == 60 and np.isfinite(band.upper).all() and np.isfinite(band.lower).all()
    assert band.middle is not None
    assert band.middle[0] == pytest.approx(float(np.mean(history.close[1:21])))
    _, few = visible_bands(history.tail(60), 60)  # no warm-up available: NaN, never made up
    assert np.isnan(few[0].upper[:BAND_PERIOD - 1]).all() and np.isfinite(few[0].upper[WARM_UP:]).all()
    assert visible_bands(history.tail(5), 60)[1] == []


@pytest.mark.parametrize("span", [timedelta(hours=5), timedelta(days=3), timedelta(days=3, hours=2),
                                  timedelta(days=130), timedelta(days=1000)])
def test_equity_chart_of_any_span_renders_without_warnings(span: timedelta) -> None:
    start = datetime(2024, 1, 1, 5, tzinfo=UTC)
    points = 200
    times = [start + span * i / (points - 1) for i in range(points)]
    curve = equity_curve(times, [10_000 + 50 * np.sin(i / 9) + i for i in range(points)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render_equity(curve)
    assert [str(w.message) for w in caught] == []
