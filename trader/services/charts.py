"""ChartService: gather candles, trades and equity, then render through the ChartRenderer port off the loop.

Candles come from the exchange port (live venue, or the paper exchange's replayed candles) and fall back
to the store. The Bollinger bands need ``BAND_PERIOD - 1`` candles before the first one shown, so those
are fetched too, the bands computed over them, and only the requested candles drawn: the bands start at
the chart's left edge instead of ``BAND_PERIOD`` candles into it. Markers are the pair's entries and
exits in the window, levels the open positions' stop and take-profit. Rendering is CPU-bound, so it
runs in ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

from trader.core.analytics.kpis import equity_from_trades
from trader.core.domain.candles import CandleFrame, check_candles, ms_to_datetime, timeframe_ms
from trader.core.domain.ids import Symbol
from trader.core.errors import DataError, InputError
from trader.core.indicators.channels import bollinger
from trader.core.positions.state import Position
from trader.ports.charts import (
    BandOverlay,
    CandleChart,
    ChartRenderer,
    LevelKind,
    MarkerKind,
    PriceLevel,
    TradeMarker,
)
from trader.ports.clock import Clock
from trader.ports.exchange import Exchange
from trader.ports.store import UnitOfWorkFactory
from trader.services.closed_trades import ClosedTrades
from trader.services.dto import ChartImage, ChartRequest
from trader.services.equity_history import EquityHistory

logger = logging.getLogger(__name__)

MAX_CANDLES = 1000
BAND_PERIOD = 20
WARM_UP = BAND_PERIOD - 1  # candles before the first shown one that the bands need
PAGE = 500  # candles per exchange request: what most venues serve in one page


class RenderedChartService:
    """Implements ``api.ChartService``: candles with trades and levels, and the equity curve."""

    def __init__(self, uow_factory: UnitOfWorkFactory, exchange: Exchange, renderer: ChartRenderer,
                 clock: Clock, *, store_exchange: str, theme: str = "dark",
                 start_balance: Decimal = Decimal(10_000)) -> None:
        self._uow = uow_factory
        self._closed = ClosedTrades(uow_factory)
        self._equity = EquityHistory(uow_factory)
        self._exchange = exchange
        self._renderer = renderer
        self._clock = clock
        self._store_exchange = store_exchange
        self._theme = theme
        self._start_balance = start_balance

    async def candles(self, request: ChartRequest) -> ChartImage:
        """Render the last ``request.candles`` candles of the pair with Bollinger bands, trades and levels."""
        chart = await self.candle_chart(request)
        png = await asyncio.to_thread(self._renderer.candles, chart, self._theme)
        frame = chart.candles
        last = ms_to_datetime(int(frame.timestamp[-1]))
        caption = f"{chart.title}, {len(frame)} candles to {last:%Y-%m-%d %H:%M} UTC"
        return ChartImage(png, caption)

    async def candle_chart(self, request: ChartRequest) -> CandleChart:
        """Return what the candle chart shows: the candles, bands from the warm-up on, trades, levels."""
        pair = Symbol(request.pair.upper())
        if not 10 <= request.candles <= MAX_CANDLES:
            raise InputError(f"candles={request.candles}", user_message=f"Candles must be 10..{MAX_CANDLES}.")
        history = await self._frame(pair, request.timeframe, request.candles + WARM_UP)
        frame, bands = visible_bands(history, request.candles)
        return CandleChart(
            title=f"{pair} {request.timeframe}", candles=frame, bands=bands,
            markers=await self._markers(pair, frame, request.timeframe), levels=await self._levels(pair),
        )

    async def _frame(self, pair: Symbol, timeframe: str, count: int) -> CandleFrame:
        step = timedelta(milliseconds=timeframe_ms(timeframe))
        now = self._clock.now()
        frame: CandleFrame | None = None
        try:
            frame = await self._fetch(pair, timeframe, now - step * (count + 1), count + 1)
        except DataError:
            raise
        except Exception as exc:  # the venue is down: the store may still have the candles
            logger.warning("chart candles for %s from the exchange failed: %s", pair, exc)
        if frame is None or len(frame) == 0:
            async with self._uow() as uow:
                frame = await uow.candles.load(self._store_exchange, pair, timeframe)
            frame = check_candles(frame).clean  # rows stored before validation must not break the chart
        if len(frame) == 0:
            raise DataError(f"no {timeframe} candles for {pair}",
                            user_message=f"No {timeframe} candles for {pair} yet.")
        return frame.tail(count)

    async def _fetch(self, pair: Symbol, timeframe: str, since: datetime, count: int) -> CandleFrame:
        """Return up to ``count`` candles from ``since`` in pages a venue serves (at most ``PAGE`` each)."""
        pages: list[pd.DataFrame] = []
        got, last = 0, -1
        while got < count:
            page = await self._exchange.candles(pair, timeframe, since, min(PAGE, count - got))
            if len(page) == 0 or int(page.timestamp[-1]) <= last:  # the venue has nothing newer
                break
            pages.append(page.to_dataframe())
            got += len(page)
            last = int(page.timestamp[-1])
            since = ms_to_datetime(last + timeframe_ms(timeframe))
        if not pages:
            return CandleFrame.from_arrays(np.empty((0, 6)))
        joined = pd.concat(pages).drop_duplicates("timestamp", keep="last").sort_values("timestamp")
        return CandleFrame.from_dataframe(joined)

    async def _markers(self, pair: Symbol, frame: CandleFrame, timeframe: str) -> list[TradeMarker]:
        start = ms_to_datetime(int(frame.timestamp[0]))
        end = ms_to_datetime(int(frame.timestamp[-1]) + timeframe_ms(timeframe))
        markers: list[TradeMarker] = []
        for record in await self._closed.records():
            if record.symbol != pair:
                continue
            if start <= record.entry_time < end:
                markers.append(TradeMarker(record.entry_time, float(record.entry_price), MarkerKind.ENTRY,
                                           record.direction))
            if start <= record.exit_time < end:
                markers.append(TradeMarker(record.exit_time, float(record.exit_price), MarkerKind.EXIT,
                                           record.direction))
        for position in await self._open(pair):
            if position.opened_at is not None and position.entry_price is not None \
                    and start <= position.opened_at < end:
                markers.append(TradeMarker(position.opened_at, float(position.entry_price), MarkerKind.ENTRY,
                                           position.direction))
        return markers

    async def _open(self, pair: Symbol) -> list[Position]:
        async with self._uow() as uow:
            return [p for p in await uow.positions.unfinished() if p.symbol == pair]

    async def _levels(self, pair: Symbol) -> list[PriceLevel]:
        levels: list[PriceLevel] = []
        for position in await self._open(pair):
            if position.stop_price is not None:
                levels.append(PriceLevel(LevelKind.STOP, float(position.stop_price)))
            if position.take_profit is not None:
                levels.append(PriceLevel(LevelKind.TAKE_PROFIT, float(position.take_profit)))
        return levels

    async def equity(self) -> ChartImage:
        """Render the account equity (stored snapshots, or start balance plus realised PnL)."""
        series = await self._equity_series()
        png = await asyncio.to_thread(self._renderer.equity, series, "Equity", self._theme)
        return ChartImage(png, f"Equity {series.index[0]:%Y-%m-%d} to {series.index[-1]:%Y-%m-%d}")

    async def _equity_series(self) -> pd.Series:
        snapshots = await self._equity.since()
        if len(snapshots) >= 2:
            index = pd.DatetimeIndex([pd.Timestamp(s.ts) for s in snapshots]).tz_convert("UTC")
            series = pd.Series([float(s.equity) for s in snapshots], index=index, name="equity")
            return series[~series.index.duplicated(keep="last")]
        records = await self._closed.records()
        start = min((r.entry_time for r in records), default=self._clock.now() - timedelta(days=1))
        series = equity_from_trades(records, self._start_balance, start)
        if len(series) < 2:
            now = pd.Timestamp(self._clock.now()).tz_convert("UTC")
            series = pd.Series([float(self._start_balance)] * 2, name="equity",
                               index=pd.DatetimeIndex([now - pd.Timedelta(days=1), now]))
        return series


def visible_bands(history: CandleFrame, visible: int) -> tuple[CandleFrame, list[BandOverlay]]:
    """Return the last ``visible`` candles of ``history`` and the Bollinger bands over them.

    The bands are computed on the whole of ``history``, so the candles before the visible ones warm
    them up; with too little history the first visible values stay NaN rather than being made up.
    """
    shown = history.tail(visible)
    if len(history) < BAND_PERIOD:
        return shown, []
    bands = bollinger(history.close, BAND_PERIOD, 2.0)
    first = len(history) - len(shown)
    return shown, [BandOverlay(f"Bollinger {BAND_PERIOD}, 2", bands.upper[first:], bands.lower[first:],
                               bands.middle[first:])]
