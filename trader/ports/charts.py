"""Chart port: what a chart shows (plain data) and the renderer services call (PNG bytes).

The specs live here, not in the matplotlib adapter, so services can build them without importing
matplotlib. Rendering is CPU-bound and synchronous: services call it through ``asyncio.to_thread``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from trader.core.analytics.portfolio import BasketValuation
from trader.core.analytics.tables import PerformanceRow
from trader.core.analytics.tax.report import CgtReport
from trader.core.domain.candles import CandleFrame
from trader.core.domain.enums import Direction

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class LineOverlay:
    """An indicator drawn over price (e.g. an EMA); one value per candle, NaN where undefined."""

    label: str
    values: FloatArray


@dataclass(frozen=True, slots=True)
class BandOverlay:
    """A shaded band (e.g. Bollinger) with an optional middle line; one value per candle."""

    label: str
    upper: FloatArray
    lower: FloatArray
    middle: FloatArray | None = None


class MarkerKind(StrEnum):
    """Trade marker type."""

    ENTRY = "entry"
    EXIT = "exit"


@dataclass(frozen=True, slots=True)
class TradeMarker:
    """An entry or exit at ``time`` (UTC) and ``price``; shown on the candle containing the time."""

    time: datetime
    price: float
    kind: MarkerKind
    direction: Direction = Direction.LONG


class LevelKind(StrEnum):
    """Horizontal price line type."""

    STOP = "stop"
    TAKE_PROFIT = "take_profit"
    TRAILING = "trailing"


@dataclass(frozen=True, slots=True)
class PriceLevel:
    """A current stop, take-profit or trailing-stop price."""

    kind: LevelKind
    price: float


@dataclass(frozen=True, slots=True)
class CandleChart:
    """Everything one candlestick chart shows."""

    title: str
    candles: CandleFrame
    lines: Sequence[LineOverlay] = ()
    bands: Sequence[BandOverlay] = ()
    markers: Sequence[TradeMarker] = ()
    levels: Sequence[PriceLevel] = ()


class ChartRenderer(Protocol):
    """Renders charts to PNG bytes; ``theme`` is 'light' or 'dark' (ValueError otherwise)."""

    def candles(self, chart: CandleChart, theme: str = "light") -> bytes:
        """Return a candlestick chart with volume, overlays, markers and price levels."""
        ...

    def equity(self, equity: pd.Series, title: str = "Equity", theme: str = "light") -> bytes:
        """Return an equity curve (UTC-indexed Series) with its drawdown panel."""
        ...

    def monthly_returns(self, equity: pd.Series, title: str = "Monthly returns",
                        theme: str = "light") -> bytes:
        """Return the monthly returns heatmap of an equity curve."""
        ...

    def pair_pnl(self, rows: Sequence[PerformanceRow], quote: str = "USDT", theme: str = "light") -> bytes:
        """Return PnL bars per pair from ``tables.by_pair`` rows."""
        ...

    def tax_summary(self, report: CgtReport, theme: str = "light") -> bytes:
        """Return the one-page summary of a CGT report."""
        ...

    def portfolio(self, valuation: BasketValuation, theme: str = "light") -> bytes:
        """Return a valued basket: value and cost by category, best and worst performers."""
        ...
