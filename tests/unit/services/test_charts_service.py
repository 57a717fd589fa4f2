"""ChartService over the real runtime: PNGs rendered through the matplotlib adapter, bad input refused."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fixtures.live_runtime import ADMIN_ACTOR, LiveRuntime
from trader.core.errors import DataError, InputError
from trader.ports.charts import MarkerKind
from trader.services.charts import RenderedChartService
from trader.services.dto import ChartRequest

PNG = b"\x89PNG\r\n\x1a\n"


async def test_candle_chart_of_a_traded_pair_is_a_png_with_a_caption(live_runtime: LiveRuntime) -> None:
    position = await live_runtime.open_position()
    image = await live_runtime.runtime.services.charts.candles(ChartRequest(position.symbol, "1h", 60))
    assert image.png.startswith(PNG) and len(image.png) > 5_000
    assert image.caption.startswith(f"{position.symbol} 1h, 60 candles")


async def test_candle_chart_of_an_unknown_pair_is_a_data_error(live_runtime: LiveRuntime) -> None:
    await live_runtime.advance(1)
    with pytest.raises(DataError):
        await live_runtime.runtime.services.charts.candles(ChartRequest("DOGE/USDT"))


async def test_candle_count_out_of_range_is_an_input_error(live_runtime: LiveRuntime) -> None:
    with pytest.raises(InputError):
        await live_runtime.runtime.services.charts.candles(ChartRequest("BTC/USDT", "1h", 5))


async def test_equity_chart_after_a_trade_is_a_png(live_runtime: LiveRuntime) -> None:
    position = await live_runtime.open_position()
    await live_runtime.runtime.services.control.close(position.id, ADMIN_ACTOR)
    await live_runtime.advance(2)
    image = await live_runtime.runtime.services.charts.equity()
    assert image.png.startswith(PNG) and image.caption.startswith("Equity 2022-")


async def test_equity_chart_before_any_data_still_renders(live_runtime: LiveRuntime) -> None:
    image = await live_runtime.runtime.services.charts.equity()
    assert image.png.startswith(PNG)


async def test_candle_chart_bands_start_at_the_first_visible_candle(live_runtime: LiveRuntime) -> None:
    # the replay has fed far more than 60 + 19 candles of 4h by the time a position is open
    position = await live_runtime.open_position()
    charts = live_runtime.runtime.services.charts
    assert isinstance(charts, RenderedChartService)
    for timeframe in ("1h", "4h"):
        chart = await charts.candle_chart(ChartRequest(position.symbol, timeframe, 60))
        (band,) = chart.bands
        assert len(chart.candles) == 60 == len(band.upper)
        assert np.isfinite(band.upper).all() and np.isfinite(band.lower).all(), timeframe
    assert any(m.kind is MarkerKind.ENTRY for m in chart.markers)
