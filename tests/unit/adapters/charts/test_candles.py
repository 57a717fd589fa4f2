"""Candlestick chart: decoded PNG size, colours of candles, overlays, markers and price levels."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.unit.adapters.charts.pngs import decode, pixels_of
from trader.adapters.charts.candles import (
    BandOverlay,
    CandleChart,
    LevelKind,
    LineOverlay,
    MarkerKind,
    PriceLevel,
    TradeMarker,
    render_candles,
)
from trader.adapters.charts.theme import DARK, LIGHT, theme
from trader.core.domain.candles import CandleFrame

SAMPLE = Path(__file__).resolve().parents[4] / "trader" / "data" / "sample" / "BTC_USDT-1h.csv.gz"
FRAME = CandleFrame.from_dataframe(pd.read_csv(SAMPLE).tail(200).reset_index(drop=True))


def at(i: int) -> datetime:
    return datetime.fromtimestamp(int(FRAME.timestamp[i]) / 1000, tz=UTC)


def test_plain_chart_is_phone_sized_png_with_rising_and_falling_candles() -> None:
    image = decode(render_candles(CandleChart("BTC/USDT 1h", FRAME)))
    assert image.shape[:2] == (900, 1200) == LIGHT.pixels[::-1]
    assert pixels_of(image, LIGHT.up) > 500 and pixels_of(image, LIGHT.down) > 500
    assert pixels_of(image[:5, :5], LIGHT.background) == 25


def test_dark_theme_paints_dark_background() -> None:
    image = decode(render_candles(CandleChart("BTC/USDT 1h", FRAME), theme("dark")))
    assert pixels_of(image[:5, :5], DARK.background) == 25
    assert pixels_of(image, DARK.up) > 500


def test_overlays_markers_and_levels_are_drawn() -> None:
    close = pd.Series(FRAME.close)
    mid, sd = close.rolling(20).mean().to_numpy(), close.rolling(20).std().to_numpy()
    ema = close.ewm(span=20).mean().to_numpy()
    plain = decode(render_candles(CandleChart("x", FRAME)))
    band = BandOverlay("BB", mid + 2 * sd, mid - 2 * sd, mid)
    chart = CandleChart(
        "x", FRAME, lines=[LineOverlay("EMA 20", ema)], bands=[band],
        markers=[TradeMarker(at(120), float(FRAME.close[120]), MarkerKind.ENTRY),
                 TradeMarker(at(160), float(FRAME.close[160]), MarkerKind.EXIT)],
        levels=[PriceLevel(LevelKind.TRAILING, float(FRAME.close[-1]) * 0.99)],
    )
    full = decode(render_candles(chart))
    assert pixels_of(plain, LIGHT.entry) == 0 and pixels_of(full, LIGHT.entry) > 30
    assert pixels_of(plain, LIGHT.overlays[1]) == 0 and pixels_of(full, LIGHT.overlays[1]) > 200  # EMA
    assert pixels_of(plain, LIGHT.trailing) == 0 and pixels_of(full, LIGHT.trailing) > 300


def test_level_outside_price_range_widens_the_axis_to_show_it() -> None:
    far = float(FRAME.low.min()) * 0.8
    image = decode(render_candles(CandleChart("x", FRAME, levels=[PriceLevel(LevelKind.TRAILING, far)])))
    assert pixels_of(image, LIGHT.trailing) > 300


def test_bad_inputs_raise_value_errors() -> None:
    with pytest.raises(ValueError, match="no candles"):
        render_candles(CandleChart("x", FRAME.slice(0, 0)))
    with pytest.raises(ValueError, match="overlay 'EMA' has 3 values for 200 candles"):
        render_candles(CandleChart("x", FRAME, lines=[LineOverlay("EMA", np.ones(3))]))
    with pytest.raises(ValueError, match="unknown chart theme 'pink'"):
        theme("pink")


def test_rendering_never_imports_pyplot() -> None:
    code = ("import sys; from tests.unit.adapters.charts.test_candles import FRAME; "
            "from trader.adapters.charts.candles import CandleChart, render_candles; "
            "import trader.adapters.charts.equity, trader.adapters.charts.performance, "
            "trader.adapters.charts.tax_summary; "
            "render_candles(CandleChart('x', FRAME)); "
            "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'")
    root = Path(__file__).resolve().parents[4]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
