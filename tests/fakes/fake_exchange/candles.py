"""Candle rows for the fake venues: the bundled real samples or arrays a test supplies."""

from __future__ import annotations

import csv
import functools
import gzip
from pathlib import Path

CandleRows = list[tuple[int, str, str, str, str, str]]  # open ms, o, h, l, c, v (decimal strings)

SAMPLE_DIR = Path(__file__).resolve().parents[3] / "trader" / "data" / "sample"


def load_sample(name: str) -> CandleRows:
    """Load a bundled sample such as 'BTC_USDT-1h' as rows of exact decimal strings (a fresh list)."""
    return list(_load(name))


@functools.cache
def _load(name: str) -> tuple[tuple[int, str, str, str, str, str], ...]:
    with gzip.open(SAMPLE_DIR / f"{name}.csv.gz", "rt", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        return tuple((int(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in reader)


def rows_from_arrays(rows: list[list[float]] | list[tuple[float, ...]]) -> CandleRows:
    """Convert [[ts_ms, o, h, l, c, v], ...] numbers to rows."""
    return [(int(r[0]), *(repr(float(x)) for x in r[1:6])) for r in rows]  # type: ignore[misc]


def select(rows: CandleRows, start_ms: int | None, end_ms: int | None, limit: int) -> CandleRows:
    """Return up to ``limit`` rows with open time in [start, end]; without start, the latest ones."""
    picked = [r for r in rows
              if (start_ms is None or r[0] >= start_ms) and (end_ms is None or r[0] <= end_ms)]
    return picked[:limit] if start_ms is not None else picked[-limit:]
