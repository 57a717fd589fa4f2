"""SQL candle repository: bulk upsert and a numpy load path (no ORM objects per row)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from trader.domain.candles import CandleFrame
from trader.domain.ids import Symbol
from trader.ports.store import CandleSeries
from trader.store.db import upsert
from trader.store.orm import CandleRow

_TABLE = CandleRow.__table__
_CHUNK = 5_000  # rows per statement: bounded memory per round trip
_MIN_TS, _MAX_TS = -(2**63), 2**63 - 1
_SQLITE_LOAD = """
SELECT ts, open, high, low, close, volume FROM candles
WHERE exchange = ? AND symbol = ? AND timeframe = ? AND ts >= ? AND ts < ? ORDER BY ts
"""
# One row of six arrays: asyncpg decodes arrays in C, far cheaper than one record per candle.
_PG_LOAD = """
SELECT array_agg(ts ORDER BY ts), array_agg(open ORDER BY ts), array_agg(high ORDER BY ts),
       array_agg(low ORDER BY ts), array_agg(close ORDER BY ts), array_agg(volume ORDER BY ts)
FROM candles WHERE exchange = $1 AND symbol = $2 AND timeframe = $3 AND ts >= $4 AND ts < $5
"""


class SqlCandleRepository:
    """Candles in the ``candles`` table."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert(self, exchange: str, symbol: Symbol, timeframe: str, frame: CandleFrame) -> int:
        """Insert or overwrite every candle of ``frame``; return the number written."""
        if len(frame) == 0:
            return 0
        conn = await self._session.connection()
        stmt = upsert(_TABLE, conn.dialect.name)  # type: ignore[arg-type]
        stmt = stmt.on_conflict_do_update(
            index_elements=["exchange", "symbol", "timeframe", "ts"],
            set_={c: stmt.excluded[c] for c in ("open", "high", "low", "close", "volume")},
        )
        columns = zip(frame.timestamp.tolist(), frame.open.tolist(), frame.high.tolist(),
                      frame.low.tolist(), frame.close.tolist(), frame.volume.tolist(), strict=True)
        rows = [
            {"exchange": exchange, "symbol": symbol, "timeframe": timeframe, "ts": ts,
             "open": o, "high": h, "low": lo, "close": c, "volume": v}
            for ts, o, h, lo, c, v in columns
        ]
        for start in range(0, len(rows), _CHUNK):
            await conn.execute(stmt, rows[start : start + _CHUNK])
        return len(rows)

    async def load(
        self, exchange: str, symbol: Symbol, timeframe: str,
        start_ms: int | None = None, end_ms: int | None = None,
    ) -> CandleFrame:
        """Return candles with ``start_ms <= open time < end_ms``, oldest first."""
        lo = start_ms if start_ms is not None else _MIN_TS
        hi = end_ms if end_ms is not None else _MAX_TS
        conn = await self._session.connection()
        # The driver connection of this session's transaction, so uncommitted upserts are visible;
        # skipping SQLAlchemy's per-row objects makes 60k candles load ~3x faster (bench/store.py).
        driver = (await conn.get_raw_connection()).driver_connection
        if conn.dialect.name == "postgresql":
            record = await driver.fetchrow(_PG_LOAD, exchange, symbol, timeframe, lo, hi)  # type: ignore[union-attr]
            columns = [record[i] or [] for i in range(6)]
            ts = np.asarray(columns[0], dtype=np.int64)
            values = np.column_stack([np.asarray(c, dtype=np.float64) for c in columns[1:]])
        else:
            cursor = await driver.execute(_SQLITE_LOAD, (exchange, symbol, timeframe, lo, hi))  # type: ignore[union-attr]
            rows = await cursor.fetchall()
            await cursor.close()
            ts = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            values = np.asarray(rows, dtype=np.float64).reshape(-1, 6)[:, 1:]
        return CandleFrame(
            timestamp=ts, open=np.ascontiguousarray(values[:, 0]), high=np.ascontiguousarray(values[:, 1]),
            low=np.ascontiguousarray(values[:, 2]), close=np.ascontiguousarray(values[:, 3]),
            volume=np.ascontiguousarray(values[:, 4]),
        )

    async def first_ms(self, exchange: str, symbol: Symbol, timeframe: str) -> int | None:
        """Return the oldest stored open time, or None."""
        return await self._edge(func.min, exchange, symbol, timeframe)

    async def last_ms(self, exchange: str, symbol: Symbol, timeframe: str) -> int | None:
        """Return the newest stored open time, or None."""
        return await self._edge(func.max, exchange, symbol, timeframe)

    async def _edge(self, agg: Any, exchange: str, symbol: Symbol, timeframe: str) -> int | None:
        c = CandleRow
        stmt = select(agg(c.ts)).where(c.exchange == exchange, c.symbol == symbol, c.timeframe == timeframe)
        value = (await self._session.execute(stmt)).scalar_one_or_none()
        return int(value) if value is not None else None

    async def series(self) -> list[CandleSeries]:
        """Return every stored series with first/last open time and count."""
        c = CandleRow
        stmt = (
            select(c.exchange, c.symbol, c.timeframe, func.min(c.ts), func.max(c.ts), func.count())
            .group_by(c.exchange, c.symbol, c.timeframe)
            .order_by(c.exchange, c.symbol, c.timeframe)
        )
        rows = (await self._session.execute(stmt)).all()
        return [
            CandleSeries(exchange=r[0], symbol=Symbol(r[1]), timeframe=r[2], first_ms=int(r[3]),
                         last_ms=int(r[4]), count=int(r[5]))
            for r in rows
        ]
