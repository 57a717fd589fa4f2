"""The candles-with-trades chart of a backtest: the traded period of one pair, every entry and exit marked.

A year of minutes cannot be drawn candle by candle, so the candles are aggregated to the finest standard
timeframe that fits the period into ``max_candles``; a marker sits on the aggregated candle containing
its fill, at the fill price. Pure data in, a ``CandleChart`` spec out; the renderer draws it.
"""

from __future__ import annotations

from trader.core.backtest.result import BacktestResult
from trader.core.domain.candles import CandleFrame, datetime_to_ms, timeframe_ms
from trader.core.errors import DataError
from trader.ports.charts import CandleChart, MarkerKind, TradeMarker

DISPLAY_TIMEFRAMES = ("1m", "5m", "15m", "30m", "1h", "4h", "12h", "1d", "1w")
MAX_CANDLES = 400  # readable on a phone screen and in a PNG a few hundred pixels wide


def display_timeframe(timeframe: str, span_ms: int, max_candles: int = MAX_CANDLES) -> str:
    """Return the finest standard timeframe, a multiple of ``timeframe``, that shows ``span_ms`` in
    at most ``max_candles`` candles (the coarsest one when none does)."""
    base = timeframe_ms(timeframe)
    fitting = [tf for tf in DISPLAY_TIMEFRAMES if timeframe_ms(tf) % base == 0]
    if not fitting:
        return timeframe
    return next((tf for tf in fitting if span_ms / timeframe_ms(tf) <= max_candles), fitting[-1])


def trade_chart(result: BacktestResult, candles: CandleFrame, pair: str,
                max_candles: int = MAX_CANDLES) -> CandleChart:
    """Return the chart of ``pair``'s candles over the run's period with the run's entries and exits."""
    if pair not in result.pairs:
        raise DataError(f"{pair} was not part of the backtest ({', '.join(result.pairs)})")
    tf_ms = timeframe_ms(result.timeframe)
    first = int(candles.timestamp.searchsorted(datetime_to_ms(result.start) - tf_ms, side="left"))
    last = int(candles.timestamp.searchsorted(datetime_to_ms(result.end) - tf_ms, side="right"))
    traded = candles.slice(first, last)
    if len(traded) == 0:
        raise DataError(f"no {pair} candles in the backtest period")
    span = int(traded.timestamp[-1] - traded.timestamp[0]) + tf_ms
    shown_tf = display_timeframe(result.timeframe, span, max_candles)
    shown = traded if shown_tf == result.timeframe else traded.resample(shown_tf)
    trades = [t for t in result.trades if t.symbol == pair]
    markers = [TradeMarker(t.entry_time, float(t.entry_price), MarkerKind.ENTRY, t.direction) for t in trades]
    markers += [TradeMarker(t.exit_time, float(t.exit_price), MarkerKind.EXIT, t.direction) for t in trades]
    title = f"{result.strategy} · {pair} · {shown_tf} candles · {len(trades)} trades"
    return CandleChart(title, shown, markers=markers)
