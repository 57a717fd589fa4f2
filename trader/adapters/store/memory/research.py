"""In-memory repositories (backtests, unit tests) of the research context: candles, backtest runs and news
headlines."""


from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from trader.adapters.store.jsondoc import round_trip
from trader.adapters.store.memory.tables import OverlayTable, normalise
from trader.core.domain.candles import MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, CandleFrame
from trader.core.domain.ids import Symbol
from trader.ports.news import NewsItem
from trader.ports.store import (
    BacktestRun,
    CandleSeries,
)

SeriesKey = tuple[str, str, str]


class MemoryCandleRepository:
    """Candles as one CandleFrame per series."""

    def __init__(self, table: OverlayTable[SeriesKey, CandleFrame]) -> None:
        self._t = table

    async def upsert(self, exchange: str, symbol: Symbol, timeframe: str, frame: CandleFrame) -> int:
        """Merge ``frame`` into the series; new values win on equal open times."""
        if len(frame) == 0:
            return 0
        old = self._t.get((exchange, symbol, timeframe))
        rows = _rows(frame) if old is None else np.vstack([_rows(old), _rows(frame)])
        order = np.argsort(rows[:, 0], kind="stable")  # stable: the newer row is last among equals
        rows = rows[order]
        keep = np.r_[rows[1:, 0] != rows[:-1, 0], True]
        self._t.put((exchange, symbol, timeframe), CandleFrame.from_arrays(rows[keep]))
        return len(frame)

    async def load(
        self, exchange: str, symbol: Symbol, timeframe: str,
        start_ms: int | None = None, end_ms: int | None = None,
    ) -> CandleFrame:
        """Return candles with ``start_ms <= open time < end_ms``, oldest first."""
        frame = self._t.get((exchange, symbol, timeframe))
        if frame is None:
            return CandleFrame.from_arrays(np.empty((0, 6)))
        lo = 0 if start_ms is None else int(np.searchsorted(frame.timestamp, start_ms, side="left"))
        hi = len(frame) if end_ms is None else int(np.searchsorted(frame.timestamp, end_ms, side="left"))
        return CandleFrame.from_arrays(_rows(frame)[lo:hi])

    async def delete(self, exchange: str, symbol: Symbol, timeframe: str, timestamps: Sequence[int]) -> int:
        """Delete the candles with these open times; return how many were stored."""
        frame = self._t.get((exchange, symbol, timeframe))
        if frame is None:
            return 0
        drop = np.isin(frame.timestamp, np.asarray(timestamps, dtype=np.int64))
        self._t.put((exchange, symbol, timeframe), CandleFrame.from_arrays(_rows(frame)[~drop]))
        return int(drop.sum())

    async def first_ms(self, exchange: str, symbol: Symbol, timeframe: str) -> int | None:
        """Return the oldest stored open time, or None."""
        sane = self._sane_times(exchange, symbol, timeframe)
        return int(sane[0]) if len(sane) else None

    async def last_ms(self, exchange: str, symbol: Symbol, timeframe: str) -> int | None:
        """Return the newest stored open time, or None."""
        sane = self._sane_times(exchange, symbol, timeframe)
        return int(sane[-1]) if len(sane) else None

    def _sane_times(self, exchange: str, symbol: Symbol, timeframe: str) -> np.ndarray:  # type: ignore[type-arg]
        """Open times within the sane range (like the SQL repository's edges)."""
        frame = self._t.get((exchange, symbol, timeframe))
        if frame is None:
            return np.empty(0, dtype=np.int64)
        ts = frame.timestamp
        return ts[(ts >= MIN_TIMESTAMP_MS) & (ts < MAX_TIMESTAMP_MS)]

    async def series(self) -> list[CandleSeries]:
        """Return every stored series, sorted."""
        return [
            CandleSeries(exchange=k[0], symbol=Symbol(k[1]), timeframe=k[2], first_ms=int(f.timestamp[0]),
                         last_ms=int(f.timestamp[-1]), count=len(f))
            for k, f in sorted(self._t.items()) if len(f)
        ]


def _rows(frame: CandleFrame) -> np.ndarray:  # type: ignore[type-arg]
    return np.column_stack([frame.timestamp.astype(np.float64), frame.open, frame.high, frame.low,
                            frame.close, frame.volume])


class MemoryBacktestRunRepository:
    """Backtest runs by id (JSON fields round-tripped like a JSON column)."""

    def __init__(self, table: OverlayTable[int, BacktestRun], ids: itertools.count[int]) -> None:
        self._t = table
        self._ids = ids

    async def add(self, run: BacktestRun) -> int:
        """Store a run and return its id."""
        run_id = next(self._ids)
        stored = replace(run, id=run_id, params=round_trip(run.params), pairs=tuple(round_trip(run.pairs)),
                         kpis=round_trip(run.kpis), trades=round_trip(run.trades))
        self._t.put(run_id, normalise(stored))
        return run_id

    async def get(self, run_id: int) -> BacktestRun | None:
        """Return the run or None."""
        return self._t.get(run_id)

    async def recent(self, limit: int = 20) -> list[BacktestRun]:
        """Return the newest runs first."""
        return [r for _, r in sorted(self._t.items(), reverse=True)[:limit]]


class MemoryNewsRepository:
    """Headlines by key."""

    def __init__(self, table: OverlayTable[str, NewsItem]) -> None:
        self._t = table

    async def add_new(self, items: Iterable[NewsItem]) -> list[NewsItem]:
        """Store the items not stored yet (by key; the first of a repeated key wins); return them."""
        added = []
        for item in items:
            if self._t.get(item.key) is None:
                stored = normalise(item)
                self._t.put(item.key, stored)
                added.append(stored)
        return added

    async def latest(self, limit: int = 10, asset: str | None = None) -> list[NewsItem]:
        """Return the newest items first, optionally only those mentioning ``asset``."""
        found = [i for i in self._t.values() if asset is None or asset.upper() in i.assets]
        return sorted(found, key=lambda i: (-i.published_at.timestamp(), i.key))[:limit]
