"""The research context: stored candles, backtest runs and news headlines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import Symbol
from trader.ports.news import NewsRepository
from trader.ports.store.transaction import JsonValue, Transaction


@dataclass(frozen=True, slots=True)
class BacktestRun:
    """A stored backtest: inputs, KPIs and trades as JSON-ready data; ``id`` assigned by the store."""

    created_at: datetime
    strategy: str
    params: Mapping[str, JsonValue]
    pairs: tuple[str, ...]
    timeframe: str
    period_start: datetime
    period_end: datetime
    kpis: Mapping[str, JsonValue]
    trades: Sequence[JsonValue] = ()
    id: int | None = None


@dataclass(frozen=True, slots=True)
class CandleSeries:
    """What is stored for one (exchange, symbol, timeframe): first/last open time (ms) and count."""

    exchange: str
    symbol: Symbol
    timeframe: str
    first_ms: int
    last_ms: int
    count: int


class CandleRepository(Protocol):
    """OHLCV candles keyed by (exchange, symbol, timeframe, open time)."""

    async def upsert(self, exchange: str, symbol: Symbol, timeframe: str, frame: CandleFrame) -> int:
        """Insert or overwrite every candle of ``frame``; return the number written."""
        ...

    async def load(
        self, exchange: str, symbol: Symbol, timeframe: str,
        start_ms: int | None = None, end_ms: int | None = None,
    ) -> CandleFrame:
        """Return candles with ``start_ms <= open time < end_ms`` (open bounds when None), oldest first."""
        ...

    async def first_ms(self, exchange: str, symbol: Symbol, timeframe: str) -> int | None:
        """Return the oldest stored open time in 2000..2100 (the sane range), or None when there is none."""
        ...

    async def last_ms(self, exchange: str, symbol: Symbol, timeframe: str) -> int | None:
        """Return the newest stored open time in 2000..2100 (the sane range), or None when there is none."""
        ...

    async def series(self) -> list[CandleSeries]:
        """Return every stored series, sorted by exchange, symbol, timeframe."""
        ...

    async def delete(self, exchange: str, symbol: Symbol, timeframe: str, timestamps: Sequence[int]) -> int:
        """Delete the candles with these open times; return how many were stored."""
        ...


class BacktestRunRepository(Protocol):
    """Stored backtest runs."""

    async def add(self, run: BacktestRun) -> int:
        """Store a run and return its id."""
        ...

    async def get(self, run_id: int) -> BacktestRun | None:
        """Return the run or None."""
        ...

    async def recent(self, limit: int = 20) -> list[BacktestRun]:
        """Return the newest runs first."""
        ...


@dataclass(frozen=True, slots=True)
class ReplayCursor:
    """Where the replay demo stopped: the close time of the last candle fed, in its timeframe."""

    timeframe: str
    next_ms: int


class ReplayCursorRepository(Protocol):
    """The replay demo's position, so a restart resumes where it stopped."""

    async def get(self) -> ReplayCursor | None:
        """Return the stored cursor, or None before the first candle."""
        ...

    async def save(self, cursor: ReplayCursor, now: datetime) -> None:
        """Create or replace the cursor."""
        ...


class ResearchUnitOfWork(Transaction, Protocol):
    """What research and market data read and write: candles, backtest runs, news."""

    # Read-only members, so implementations may hold more specific repository types.
    @property
    def candles(self) -> CandleRepository: ...
    @property
    def backtests(self) -> BacktestRunRepository: ...
    @property
    def news(self) -> NewsRepository: ...
    @property
    def replay(self) -> ReplayCursorRepository: ...
