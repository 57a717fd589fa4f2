"""Every chart type rendered from real candles and a real backtest, as a person would look at them.

The PNGs go to ``$CHART_GALLERY`` when it is set (``CHART_GALLERY=/tmp/charts pytest
tests/unit/adapters/charts/test_gallery.py``, then open the folder), else to pytest's temporary
directory. Each must be the phone-sized PNG and render without a single warning (matplotlib's
locator and layout warnings are how an unreadable axis shows up in a log).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.unit.adapters.charts.pngs import decode
from tests.unit.core.analytics.builders import T0, btc_rule_backtest, trade
from tests.unit.core.analytics.tax.test_carry_forward import FILLS as TAX_FILLS
from trader.adapters.charts.candles import render_candles
from trader.adapters.charts.equity import render_equity
from trader.adapters.charts.performance import render_monthly_heatmap, render_pair_pnl
from trader.adapters.charts.tax_summary import render_tax_summary
from trader.adapters.charts.theme import DARK, LIGHT
from trader.core.analytics.curve import monthly_returns
from trader.core.analytics.records import equity_curve
from trader.core.analytics.tables import by_pair
from trader.core.analytics.tax import AudRates, build_cgt_report, events_from_fills
from trader.core.backtest.api import run_backtest
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.candles import CandleFrame
from trader.core.domain.enums import Direction
from trader.core.domain.ids import Symbol
from trader.core.strategies.registry import create
from trader.ports.charts import CandleChart, LevelKind, MarkerKind, PriceLevel, TradeMarker
from trader.services.backtest_chart import trade_chart
from trader.services.charts import WARM_UP, visible_bands

SAMPLE = Path(__file__).resolve().parents[4] / "trader" / "data" / "sample"
HOURS = CandleFrame.from_dataframe(pd.read_csv(SAMPLE / "BTC_USDT-1h.csv.gz"))


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("CHART_GALLERY")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("gallery")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _candles(timeframe: str, shown: int) -> bytes:
    history = (HOURS if timeframe == "1h" else HOURS.resample(timeframe)).tail(shown + WARM_UP)
    frame, bands = visible_bands(history, shown)

    def at(i: int) -> datetime:
        return datetime.fromtimestamp(int(frame.timestamp[i]) / 1000, tz=UTC)

    markers = [TradeMarker(at(shown // 3), float(frame.close[shown // 3]), MarkerKind.ENTRY),
               TradeMarker(at(shown // 2), float(frame.close[shown // 2]), MarkerKind.EXIT),
               TradeMarker(at(shown - 5), float(frame.close[-5]), MarkerKind.ENTRY, Direction.SHORT)]
    levels = [PriceLevel(LevelKind.STOP, float(frame.close[-1]) * 1.02),
              PriceLevel(LevelKind.TAKE_PROFIT, float(frame.close[-1]) * 0.95)]
    return render_candles(CandleChart(f"BTC/USDT {timeframe}", frame, bands=bands, markers=markers,
                                      levels=levels), DARK)


def _backtest_trades() -> bytes:
    candles = HOURS.slice(0, 4000)
    result = run_backtest(create("bollinger_reversion", {}), {Symbol("BTC/USDT"): candles},
                          BacktestSettings("b", "1h"), trade_from_ms=int(candles.timestamp[2000]))
    return render_candles(trade_chart(result, candles, "BTC/USDT"))


def _equity_three_days() -> bytes:
    times = [T0 + timedelta(hours=i) for i in range(72)]
    return render_equity(equity_curve(times, [10_000 + 40 * np.sin(i / 9) + i for i in range(72)]))


def _tax_summary() -> bytes:
    report = build_cgt_report(events_from_fills(TAX_FILLS, AudRates([])), 2025, opening_losses=Decimal(2000))
    return render_tax_summary(report)


CHARTS: dict[str, Callable[[], bytes]] = {
    "candles_1h": lambda: _candles("1h", 120),
    "candles_4h": lambda: _candles("4h", 120),
    "candles_1d": lambda: _candles("1d", 200),
    "equity_3_days": _equity_three_days,
    "equity_backtest": lambda: render_equity(btc_rule_backtest()[1], "BTC rule"),
    "monthly_returns": lambda: render_monthly_heatmap(monthly_returns(btc_rule_backtest()[1])),
    "pair_pnl": lambda: render_pair_pnl(by_pair([trade("12", symbol="BTC/USDT"),
                                                 trade("-5", symbol="ETH/USDT")])),
    "tax_summary": _tax_summary,
    "backtest_trades": _backtest_trades,
}


@pytest.mark.parametrize("name", list(CHARTS))
def test_every_chart_type_renders_a_phone_sized_png_without_warnings(gallery: Path, name: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = CHARTS[name]()
    assert [str(w.message) for w in caught] == []
    assert decode(png).shape[:2] == (LIGHT.pixels[1], LIGHT.pixels[0])
    (gallery / f"{name}.png").write_bytes(png)
