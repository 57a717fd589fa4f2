"""Market data: CSV import, paginated fetch with resume, gap reports and resampling, over ports only.

Candles live in the store keyed by (exchange, symbol, timeframe); times are UTC epoch milliseconds.
Fetch stores closed candles only and resumes at the last stored candle (re-fetching it, since the last
row of an imported file may have been an open candle).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

import numpy as np

from trader.domain.candles import CandleFrame, datetime_to_ms, ms_to_datetime, timeframe_ms
from trader.domain.ids import Symbol
from trader.errors import DataError, InputError
from trader.ports.clock import Clock
from trader.ports.exchange import Exchange
from trader.ports.store import UnitOfWorkFactory
from trader.services.candle_csv import read_candle_csv, series_from_name

logger = logging.getLogger(__name__)

DEFAULT_PAGE = 1000  # candles per request; Binance's klines maximum


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What one file import stored."""

    path: str
    exchange: str
    symbol: Symbol
    timeframe: str
    rows: int
    first_ms: int
    last_ms: int


@dataclass(frozen=True, slots=True)
class FetchReport:
    """What one fetch stored; ``start_ms`` is where it resumed."""

    exchange: str
    symbol: Symbol
    timeframe: str
    start_ms: int
    pages: int
    rows: int
    last_ms: int | None


@dataclass(frozen=True, slots=True)
class Gap:
    """Missing candles: ``missing`` candles from open time ``start_ms``."""

    start_ms: int
    missing: int


@dataclass(frozen=True, slots=True)
class GapReport:
    """Coverage of one stored series."""

    exchange: str
    symbol: Symbol
    timeframe: str
    first_ms: int | None
    last_ms: int | None
    count: int
    gaps: tuple[Gap, ...]

    @property
    def missing(self) -> int:
        """Return the number of missing candles between first and last."""
        return sum(g.missing for g in self.gaps)


def find_gaps(timestamps: np.ndarray, timeframe: str) -> tuple[Gap, ...]:  # type: ignore[type-arg]
    """Return the runs of missing candles in sorted open times."""
    step = timeframe_ms(timeframe)
    if len(timestamps) < 2:
        return ()
    diffs = np.diff(timestamps)
    where = np.flatnonzero(diffs > step)
    return tuple(Gap(int(timestamps[i]) + step, int(diffs[i] // step) - 1) for i in where)


def complete_buckets(frame: CandleFrame, source: str, target: str) -> CandleFrame:
    """Resample ``frame`` from ``source`` to ``target`` keeping only buckets with every source candle."""
    src, dst = timeframe_ms(source), timeframe_ms(target)
    if dst <= src or dst % src:
        raise InputError(f"cannot resample {source} to {target}: the target must be a multiple of the source")
    if len(frame) == 0:
        return frame
    resampled = frame.resample(target)
    _, counts = np.unique(frame.timestamp // dst, return_counts=True)
    return _select(resampled, counts == dst // src)


def _select(frame: CandleFrame, mask: np.ndarray) -> CandleFrame:  # type: ignore[type-arg]
    return CandleFrame(frame.timestamp[mask], frame.open[mask], frame.high[mask], frame.low[mask],
                       frame.close[mask], frame.volume[mask])


def sample_files() -> list[Path]:
    """Return the candle files bundled in ``trader/data/sample``."""
    folder = resources.files("trader.data") / "sample"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith((".csv", ".csv.gz")))


class MarketDataService:
    """Import, fetch, inspect and resample stored candles."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    async def import_csv(
        self, path: Path, exchange: str = "binance", symbol: Symbol | None = None,
        timeframe: str | None = None,
    ) -> ImportReport:
        """Import one file in one transaction (re-import overwrites); nothing is stored on a bad row."""
        if not await asyncio.to_thread(path.is_file):
            raise InputError(f"{path}: no such file")
        if symbol is None or timeframe is None:
            named_symbol, named_tf = series_from_name(path)
            symbol, timeframe = symbol or named_symbol, timeframe or named_tf
        timeframe_ms(timeframe)
        frame = await asyncio.to_thread(read_candle_csv, path)
        off_grid = frame.timestamp % timeframe_ms(timeframe) != 0
        if off_grid.any():
            first = int(frame.timestamp[np.argmax(off_grid)])
            raise InputError(f"{path}: candle {first} is not aligned to {timeframe}; wrong --timeframe?")
        async with self._uow() as uow:
            await uow.candles.upsert(exchange, symbol, timeframe, frame)
            await uow.commit()
        logger.info("imported %d %s %s candles from %s", len(frame), symbol, timeframe, path)
        return ImportReport(str(path), exchange, symbol, timeframe, len(frame),
                            int(frame.timestamp[0]), int(frame.timestamp[-1]))

    async def import_samples(self, exchange: str = "binance") -> list[ImportReport]:
        """Import every bundled sample file."""
        return [await self.import_csv(path, exchange) for path in sample_files()]

    async def fetch(
        self, venue: Exchange, exchange: str, symbol: Symbol, timeframe: str, since: datetime,
        until: datetime | None = None, page: int = DEFAULT_PAGE,
    ) -> FetchReport:
        """Fetch closed candles page by page from ``since``, or from the last stored candle when later."""
        step = timeframe_ms(timeframe)
        end_ms = datetime_to_ms(min(until, self._clock.now()) if until else self._clock.now())
        async with self._uow() as uow:
            last = await uow.candles.last_ms(exchange, symbol, timeframe)
        start = datetime_to_ms(since)
        if last is not None and last >= start:
            start = last  # resume at the last stored candle: an imported file's last one may have been open
        cursor, pages, rows, newest = start, 0, 0, last
        while cursor + step <= end_ms:
            frame = await venue.candles(symbol, timeframe, since=ms_to_datetime(cursor), limit=page)
            pages += 1
            keep = (frame.timestamp >= cursor) & (frame.timestamp + step <= end_ms)
            closed = _select(frame, keep)
            if len(closed) == 0:
                break
            async with self._uow() as uow:  # one commit per page: an interrupted fetch resumes here
                await uow.candles.upsert(exchange, symbol, timeframe, closed)
                await uow.commit()
            rows += len(closed)
            newest = int(closed.timestamp[-1])
            cursor = newest + step
        logger.info("fetched %d %s %s candles in %d pages", rows, symbol, timeframe, pages)
        return FetchReport(exchange, symbol, timeframe, start, pages, rows, newest)

    async def load(
        self, exchange: str, symbol: Symbol, timeframe: str,
        start: datetime | None = None, end: datetime | None = None,
    ) -> CandleFrame:
        """Return stored candles with ``start <= open time < end``."""
        async with self._uow() as uow:
            return await uow.candles.load(
                exchange, symbol, timeframe,
                datetime_to_ms(start) if start else None, datetime_to_ms(end) if end else None,
            )

    async def gaps(self, exchange: str, symbol: Symbol, timeframe: str) -> GapReport:
        """Return first, last, count and the gaps of a stored series."""
        frame = await self.load(exchange, symbol, timeframe)
        if len(frame) == 0:
            return GapReport(exchange, symbol, timeframe, None, None, 0, ())
        return GapReport(exchange, symbol, timeframe, int(frame.timestamp[0]), int(frame.timestamp[-1]),
                         len(frame), find_gaps(frame.timestamp, timeframe))

    async def coverage(self) -> list[GapReport]:
        """Return a gap report for every stored series."""
        async with self._uow() as uow:
            series = await uow.candles.series()
        return [await self.gaps(s.exchange, s.symbol, s.timeframe) for s in series]

    async def resample(self, exchange: str, symbol: Symbol, source: str, target: str) -> int:
        """Store ``target`` candles built from complete ``source`` buckets; return how many."""
        frame = await self.load(exchange, symbol, source)
        if len(frame) == 0:
            raise DataError(f"no {symbol} {source} candles stored for {exchange}")
        resampled = complete_buckets(frame, source, target)
        async with self._uow() as uow:
            await uow.candles.upsert(exchange, symbol, target, resampled)
            await uow.commit()
        return len(resampled)
