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

from trader.core.domain.candles import (
    CandleCheck,
    CandleFrame,
    candle_faults,
    check_candles,
    datetime_to_ms,
    ms_to_datetime,
    timeframe_ms,
)
from trader.core.domain.ids import Symbol
from trader.core.errors import DataError, InputError
from trader.ports.clock import Clock
from trader.ports.exchange import Exchange
from trader.ports.store import ResearchUnitOfWorkFactory
from trader.services.candle_csv import iter_candle_chunks, series_from_name

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
    """What one fetch stored: ``start_ms`` is where it resumed, ``backfilled`` the rows older than the
    series stored before (included in ``rows``)."""

    exchange: str
    symbol: Symbol
    timeframe: str
    start_ms: int
    pages: int
    rows: int
    last_ms: int | None
    backfilled: int = 0


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
    bad: int = 0  # stored rows that break the candle sanity rules; left out of everything above
    first_bad_ms: int | None = None

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

    def __init__(self, uow_factory: ResearchUnitOfWorkFactory, clock: Clock,
                 page: int = DEFAULT_PAGE) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._page = page  # candles asked for per request; venues may return fewer

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
        step = timeframe_ms(timeframe)
        chunks = iter_candle_chunks(path)
        rows, first_ms, last_ms = 0, 0, 0
        # One transaction for the whole file, fed chunk by chunk: memory stays flat, and an error in
        # any chunk (or the process dying) rolls back every chunk stored before it.
        async with self._uow() as uow:
            while (frame := await asyncio.to_thread(next, chunks, None)) is not None:
                off_grid = frame.timestamp % step != 0
                if off_grid.any():
                    first = int(frame.timestamp[np.argmax(off_grid)])
                    raise InputError(
                        f"{path}: candle {first} is not aligned to {timeframe}; wrong --timeframe?")
                await uow.candles.upsert(exchange, symbol, timeframe, frame)
                first_ms = first_ms if rows else int(frame.timestamp[0])
                rows, last_ms = rows + len(frame), int(frame.timestamp[-1])
            await uow.commit()
        logger.info("imported %d %s %s candles from %s", rows, symbol, timeframe, path)
        return ImportReport(str(path), exchange, symbol, timeframe, rows, first_ms, last_ms)

    async def import_samples(self, exchange: str = "binance") -> list[ImportReport]:
        """Import every bundled sample file."""
        return [await self.import_csv(path, exchange) for path in sample_files()]

    async def fetch(
        self, venue: Exchange, exchange: str, symbol: Symbol, timeframe: str, since: datetime,
        until: datetime | None = None, *, fill_gaps: bool = False,
    ) -> FetchReport:
        """Fetch closed candles from ``since``: history older than the stored series, then onward from
        the last stored candle (re-fetched: an imported file's last candle may have been open), then,
        with ``fill_gaps``, each gap inside the series (one request per gap; outages stay gaps)."""
        since_ms = datetime_to_ms(since)
        end_ms = datetime_to_ms(min(until, self._clock.now()) if until else self._clock.now())
        async with self._uow() as uow:
            first = await uow.candles.first_ms(exchange, symbol, timeframe)
            last = await uow.candles.last_ms(exchange, symbol, timeframe)
        backfill_pages = backfilled = 0
        if first is not None and since_ms < first:
            backfill_pages, backfilled = await self._fetch_range(
                venue, exchange, symbol, timeframe, since_ms, min(first, end_ms))
        start = last if last is not None and last >= since_ms else since_ms
        pages, rows = await self._fetch_range(venue, exchange, symbol, timeframe, start, end_ms)
        if fill_gaps:
            gap_pages, gap_rows = await self._fill_gaps(venue, exchange, symbol, timeframe, since_ms)
            pages, rows = pages + gap_pages, rows + gap_rows
        async with self._uow() as uow:
            newest = await uow.candles.last_ms(exchange, symbol, timeframe)
        logger.info("fetched %d %s %s candles (%d older) in %d pages", rows + backfilled, symbol, timeframe,
                    backfilled, pages + backfill_pages)
        return FetchReport(exchange, symbol, timeframe, start, pages + backfill_pages, rows + backfilled,
                           newest, backfilled)

    async def _fill_gaps(
        self, venue: Exchange, exchange: str, symbol: Symbol, timeframe: str, since_ms: int
    ) -> tuple[int, int]:
        step = timeframe_ms(timeframe)
        report = await self.gaps(exchange, symbol, timeframe)
        pages = rows = 0
        for gap in report.gaps:
            if gap.start_ms + gap.missing * step <= since_ms:
                continue
            start = max(gap.start_ms, since_ms)
            got = await self._fetch_range(venue, exchange, symbol, timeframe, start,
                                          gap.start_ms + gap.missing * step)
            pages, rows = pages + got[0], rows + got[1]
        return pages, rows

    async def _fetch_range(
        self, venue: Exchange, exchange: str, symbol: Symbol, timeframe: str, start_ms: int, end_ms: int,
    ) -> tuple[int, int]:
        """Store closed candles with ``start_ms <= open`` and ``close <= end_ms``; return (pages, rows)."""
        step = timeframe_ms(timeframe)
        cursor, pages, rows = start_ms, 0, 0
        while cursor + step <= end_ms:
            frame = await venue.candles(symbol, timeframe, since=ms_to_datetime(cursor), limit=self._page)
            pages += 1
            closed = _select(frame, (frame.timestamp >= cursor) & (frame.timestamp + step <= end_ms))
            if len(closed) == 0:
                break
            async with self._uow() as uow:  # one commit per page: an interrupted fetch resumes here
                await uow.candles.upsert(exchange, symbol, timeframe, closed)
                await uow.commit()
            rows += len(closed)
            cursor = int(closed.timestamp[-1]) + step
        return pages, rows

    async def load(
        self, exchange: str, symbol: Symbol, timeframe: str,
        start: datetime | None = None, end: datetime | None = None,
    ) -> CandleFrame:
        """Return the sane stored candles with ``start <= open time < end``; bad rows are logged, skipped."""
        checked = await self._checked(exchange, symbol, timeframe, start, end)
        return checked.clean

    async def _checked(
        self, exchange: str, symbol: Symbol, timeframe: str,
        start: datetime | None = None, end: datetime | None = None,
    ) -> CandleCheck:
        async with self._uow() as uow:
            frame = await uow.candles.load(
                exchange, symbol, timeframe,
                datetime_to_ms(start) if start else None, datetime_to_ms(end) if end else None,
            )
        checked = check_candles(frame)
        if checked.bad:  # rows stored before import validated them, or written by another tool
            logger.warning("skipping %d bad stored %s %s %s candles (first at open time %s); "
                           "see `tradebot data list`", checked.bad, exchange, symbol, timeframe,
                           checked.first_bad_ms)
        return checked

    async def gaps(self, exchange: str, symbol: Symbol, timeframe: str) -> GapReport:
        """Return first, last, count and the gaps of a stored series, and how many stored rows are bad."""
        checked = await self._checked(exchange, symbol, timeframe)
        frame, bad, first_bad = checked.clean, checked.bad, checked.first_bad_ms
        if len(frame) == 0:
            return GapReport(exchange, symbol, timeframe, None, None, 0, (), bad, first_bad)
        return GapReport(exchange, symbol, timeframe, int(frame.timestamp[0]), int(frame.timestamp[-1]),
                         len(frame), find_gaps(frame.timestamp, timeframe), bad, first_bad)

    async def drop_bad(self) -> int:
        """Delete every stored candle that breaks the sanity rules, in one transaction; return how many."""
        async with self._uow() as uow:
            series = await uow.candles.series()
            dropped = 0
            for s in series:
                frame = await uow.candles.load(s.exchange, s.symbol, s.timeframe)
                bad = np.zeros(len(frame), dtype=np.bool_)
                for mask, _ in candle_faults(frame):
                    bad |= mask
                if bad.any():
                    dropped += await uow.candles.delete(s.exchange, s.symbol, s.timeframe,
                                                        frame.timestamp[bad].tolist())
            await uow.commit()
        return dropped

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
