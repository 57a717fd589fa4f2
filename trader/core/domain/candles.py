"""Validated OHLCV arrays (float64 maths, int64 UTC milliseconds) and timeframe helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_TF = re.compile(r"^(\d+)([mhdw])$")
_UNIT_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")


def timeframe_ms(timeframe: str) -> int:
    """Return the length of a ccxt-style timeframe ('1m', '4h', '1d', '1w') in milliseconds."""
    match = _TF.match(timeframe)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"unknown timeframe {timeframe!r} (use e.g. 1m, 5m, 15m, 1h, 4h, 1d)")
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def ms_to_datetime(ms: int) -> datetime:
    """Return an aware UTC datetime for epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def datetime_to_ms(moment: datetime) -> int:
    """Return epoch milliseconds for an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: timestamps must be timezone-aware (UTC)")
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class CandleFrame:
    """OHLCV columns as equal-length numpy arrays, sorted by candle open time, no duplicates."""

    timestamp: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray

    def __post_init__(self) -> None:
        n = len(self.timestamp)
        if any(len(col) != n for col in (self.open, self.high, self.low, self.close, self.volume)):
            raise ValueError("candle columns differ in length")
        if n > 1 and not bool(np.all(np.diff(self.timestamp) > 0)):
            raise ValueError("candle timestamps must be strictly increasing")

    def __len__(self) -> int:
        return len(self.timestamp)

    @classmethod
    def from_arrays(cls, rows: npt.ArrayLike) -> CandleFrame:
        """Build from an (n, 6) array-like of [ts_ms, o, h, l, c, v] rows (ccxt's OHLCV shape)."""
        arr = np.asarray(rows, dtype=np.float64).reshape(-1, 6)
        return cls(
            timestamp=arr[:, 0].astype(np.int64),
            open=np.ascontiguousarray(arr[:, 1]),
            high=np.ascontiguousarray(arr[:, 2]),
            low=np.ascontiguousarray(arr[:, 3]),
            close=np.ascontiguousarray(arr[:, 4]),
            volume=np.ascontiguousarray(arr[:, 5]),
        )

    @classmethod
    def from_dataframe(cls, df: pd.DataFrame) -> CandleFrame:
        """Build from a DataFrame with the COLUMNS names (timestamp in ms)."""
        return cls(
            timestamp=df["timestamp"].to_numpy(dtype=np.int64),
            open=df["open"].to_numpy(dtype=np.float64),
            high=df["high"].to_numpy(dtype=np.float64),
            low=df["low"].to_numpy(dtype=np.float64),
            close=df["close"].to_numpy(dtype=np.float64),
            volume=df["volume"].to_numpy(dtype=np.float64),
        )

    def to_dataframe(self) -> pd.DataFrame:
        """Return a DataFrame with the COLUMNS names."""
        return pd.DataFrame({name: getattr(self, name) for name in COLUMNS})

    def slice(self, start: int, stop: int | None = None) -> CandleFrame:
        """Return rows [start, stop) as a new frame (views, no copy).

        Consecutive rows of a valid frame are one: equal lengths, increasing times. The checks are not
        run again (a pass over the times, twice per optimiser trial); slot by slot, as ``__init__``.
        """
        s = slice(start, stop)
        new: CandleFrame = object.__new__(CandleFrame)
        for setter, column in zip(_SETTERS, (self.timestamp, self.open, self.high, self.low, self.close,
                                             self.volume), strict=True):
            setter(new, column[s])
        return new

    def tail(self, n: int) -> CandleFrame:
        """Return the last ``n`` candles."""
        return self.slice(max(0, len(self) - n))

    def closed_before(self, now_ms: int, timeframe: str) -> CandleFrame:
        """Return only candles whose close time (open + timeframe) is at or before ``now_ms``."""
        end = int(np.searchsorted(self.timestamp, now_ms - timeframe_ms(timeframe), side="right"))
        return self.slice(0, end)

    def resample(self, timeframe: str) -> CandleFrame:
        """Aggregate to a higher timeframe aligned to UTC epoch multiples; partial buckets are kept."""
        return self.resample_ms(timeframe_ms(timeframe))

    def resample_ms(self, step: int) -> CandleFrame:
        """Aggregate to buckets of ``step`` ms aligned to UTC epoch multiples; partial buckets are kept."""
        if len(self) == 0:
            return self
        bucket = (self.timestamp // step) * step
        starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
        ends = np.r_[starts[1:], len(self)] - 1
        return CandleFrame(
            timestamp=bucket[starts],
            open=self.open[starts],
            high=np.maximum.reduceat(self.high, starts),
            low=np.minimum.reduceat(self.low, starts),
            close=self.close[ends],
            volume=np.add.reduceat(self.volume, starts),
        )


_SETTERS = tuple(getattr(CandleFrame, f.name).__set__ for f in fields(CandleFrame))
"""Each column's slot setter, in field order (``CandleFrame.slice``)."""


# ── sanity bounds: what a stored or imported candle may hold ───────────────────────────────
# Open times between 2000 and 2100: earlier is almost surely seconds instead of milliseconds, later
# cannot be turned into a datetime by every reader (9e18 ms is year 285 million).
MIN_TIMESTAMP_MS = 946_684_800_000  # 2000-01-01T00:00Z
MAX_TIMESTAMP_MS = 4_102_444_800_000  # 2100-01-01T00:00Z
# Prices strictly positive (0 divides sizing and returns) and below 1e15 (Decimal money and float
# indicators both stay exact enough; 1e308 overflows the first product). Volume may be 0: real venues
# publish empty candles during maintenance (the shared Binance 1h files have some).
MAX_PRICE = 1e15
MAX_VOLUME = 1e18


def candle_faults(frame: CandleFrame) -> list[tuple[npt.NDArray[np.bool_], str]]:
    """Return (row mask, reason) for each sanity rule, in the order a reader should report them.

    A row is bad when its open time is outside 2000..2100, a price is not finite or not in
    (0, MAX_PRICE], the volume is not finite or not in [0, MAX_VOLUME], or low/high do not bound
    open and close.
    """
    ts = frame.timestamp
    prices = np.column_stack([frame.open, frame.high, frame.low, frame.close])
    with np.errstate(invalid="ignore"):  # NaN compares False, which is what we want here
        price_ok: npt.NDArray[np.bool_] = np.all(np.isfinite(prices) & (prices > 0) & (prices <= MAX_PRICE),
                                                 axis=1)
        volume_ok = np.isfinite(frame.volume) & (frame.volume >= 0) & (frame.volume <= MAX_VOLUME)
        high_ok = frame.high >= np.maximum(frame.open, frame.close)
        low_ok = frame.low <= np.minimum(frame.open, frame.close)
    return [
        ((ts < MIN_TIMESTAMP_MS) | (ts >= MAX_TIMESTAMP_MS),
         "timestamp is outside 2000..2100 (milliseconds since 1970 expected)"),
        (~price_ok, f"a price is not a finite number in (0, {MAX_PRICE:g}]"),
        (~volume_ok, f"volume is not a finite number in [0, {MAX_VOLUME:g}]"),
        (price_ok & ~high_ok, "high is below open or close"),
        (price_ok & ~low_ok, "low is above open or close"),
    ]


@dataclass(frozen=True, slots=True)
class CandleCheck:
    """A frame split into its sane rows and a count of the bad ones (first bad open time, raw)."""

    clean: CandleFrame
    bad: int
    first_bad_ms: int | None


def check_candles(frame: CandleFrame) -> CandleCheck:
    """Split ``frame`` into sane rows and the number of rows that break ``candle_faults``."""
    bad = np.zeros(len(frame), dtype=np.bool_)
    for mask, _ in candle_faults(frame):
        bad |= mask
    if not bad.any():
        return CandleCheck(frame, 0, None)
    keep = ~bad
    clean = CandleFrame(frame.timestamp[keep], frame.open[keep], frame.high[keep], frame.low[keep],
                        frame.close[keep], frame.volume[keep])
    return CandleCheck(clean, int(bad.sum()), int(frame.timestamp[int(np.argmax(bad))]))
