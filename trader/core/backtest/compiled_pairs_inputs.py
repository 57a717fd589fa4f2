"""What the compiled loop for several pairs (``backtest.compiled_pairs``) reads and what its rows become.

The candle arrays and the parameter rows depend on the study's data and settings only, so an
optimiser's trials share them (``core.memo``); the loop's TRADE rows are booked pair by pair with
``compiled_records.book_fills`` into lazily built trades and one equity curve on the shared timeline.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np

from trader.core import memo
from trader.core.analytics.records import TradeRecord
from trader.core.backtest import compiled_rules as rl
from trader.core.backtest.compiled_records import Flows, book_fills, merged
from trader.core.backtest.settings import BacktestSettings
from trader.core.backtest.timeline import Timeline
from trader.core.domain.candles import CandleFrame, FloatArray, IntArray
from trader.core.domain.ids import Symbol
from trader.core.domain.market import MarketSpec
from trader.core.engine.inputs import EngineConfig
from trader.core.strategies.base import SignalFrame


def candle_arrays(frames: tuple[CandleFrame, ...], tf: int, timezone: str,
                   rows: tuple[Hashable, ...] | None = None,
                   ) -> tuple[IntArray, tuple[FloatArray, ...], tuple[IntArray, ...]]:
    """Return the loop's candle inputs: each pair's row offsets, the pairs' open, high, low and close
    one after the other, and their open and close times (ms) and trading days.

    Why shared: they depend on the candles only, and a study's trials trade the same rows (a new frame
    per warm-up length, hence keyed on the rows). Not frozen: the loop's cached signatures take
    writable arrays, and it writes none of them. ``rows``: the frames' ``memo.rows_key`` when known.
    """
    def build() -> tuple[IntArray, tuple[FloatArray, ...], tuple[IntArray, ...]]:
        off = np.zeros(len(frames) + 1, dtype=np.int64)
        off[1:] = np.cumsum([len(f) for f in frames])
        opens_ms = np.concatenate([f.timestamp for f in frames])
        closes_ms = opens_ms + tf
        ohlc = tuple(np.concatenate([getattr(f, name) for f in frames])
                     for name in ("open", "high", "low", "close"))
        return off, ohlc, (opens_ms, closes_ms, *rl.clock_days(opens_ms, closes_ms, timezone))

    cache = memo.active()
    if cache is None:
        return build()
    if rows is None:
        rows = tuple(memo.rows_key(f) for f in frames)
    key = ("pair candles", rows, tf, timezone)
    return cache.shared(key, frames, build, freeze=False)


def pair_params(settings: BacktestSettings, markets: Mapping[Symbol, MarketSpec],
                 symbols: Sequence[Symbol]) -> tuple[FloatArray, FloatArray]:
    """Return the loop's parameter rows (``rl.params``) and trailing rows of the pairs, in order.

    Why shared: they read the settings' risk, money and costs and the markets only (what the key holds;
    the risk section is frozen, the rest hashed by value), the same in every trial of a study, and
    converting their Decimals was a share of a trial.
    """
    def build() -> tuple[FloatArray, FloatArray]:
        config = EngineConfig(settings.strategy, settings.risk, dict(markets))
        return (np.stack([rl.params(settings, markets[s]) for s in symbols]),
                np.stack([config.context(s).trail.as_array() for s in symbols]))

    cache = memo.active()
    if cache is None:
        return build()
    key = ("pair params", id(settings.risk), settings.start_balance, settings.fees, settings.slippage,
           tuple((s, markets[s]) for s in symbols))
    return cache.shared(key, (settings.risk,), build, freeze=False)


def book_pairs(rows: FloatArray, candles: Mapping[Symbol, CandleFrame],
          signals: Mapping[Symbol, SignalFrame], markets: Mapping[Symbol, MarketSpec],
          settings: BacktestSettings, timeline: Timeline,
          tf: int) -> tuple[Sequence[TradeRecord], FloatArray]:
    """Return the trades of the loop's rows (each pair's booked by ``book_fills``, built on first read) and
    the equity curve."""
    trades: list[Sequence[TradeRecord]] = []
    parts: list[Flows] = []
    for i, symbol in enumerate(sorted(candles)):
        out, flows = book_fills(rows[rows[:, 12] == i], candles[symbol], signals[symbol], symbol, settings,
                                markets[symbol], int(candles[symbol].timestamp[-1]) + tf)
        trades.append(out)
        parts.append(flows)
    curve = np.full(len(timeline.times), float(settings.start_balance))
    counts = [len(flows[1]) for flows in parts]
    if sum(counts):  # each pair's fills in turn, as one array each (the timeline's pairs are in this order)
        stamps, value, fee, amount = (np.concatenate([flows[k] for flows in parts]) for k in (1, 2, 3, 4))
        pair = np.repeat(np.arange(len(parts), dtype=np.int64), counts)
        curve = timeline.add_pair_fills(curve, stamps, pair, value, fee, amount)
    return merged(trades), curve
