"""Read OHLCV CSV files (gzip or plain): ``timestamp,open,high,low,close,volume``, UTC milliseconds.

Files are read as a stream of chunks (``iter_candle_chunks``), so memory stays flat however long the
file is; every problem names the file and the line. A caller that stores chunks as they come must do so
in one transaction, so a bad row late in the file leaves nothing stored (``MarketDataService``).
File names like ``BTC_USDT-1h.csv.gz`` give the pair and timeframe.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np

from trader.core.domain.candles import (
    COLUMNS,
    MAX_TIMESTAMP_MS,
    MIN_TIMESTAMP_MS,
    CandleFrame,
    candle_faults,
    timeframe_ms,
)
from trader.core.domain.ids import Symbol
from trader.core.errors import InputError

_NAME = re.compile(r"^([A-Za-z0-9]+)_([A-Za-z0-9]+)-(\d+[mhdw])(?:\.csv)?(?:\.gz)?$")
_GZIP_MAGIC = b"\x1f\x8b"
CHUNK_ROWS = 50_000  # ~3 MB of float64 per chunk; the import's memory no longer grows with the file


def series_from_name(path: Path) -> tuple[Symbol, str]:
    """Return (symbol, timeframe) from a name like ``BTC_USDT-1h.csv.gz``; InputError otherwise."""
    match = _NAME.match(path.name)
    if match is None:
        raise InputError(
            f"{path.name}: cannot tell the pair and timeframe from the file name "
            "(expected e.g. BTC_USDT-1h.csv.gz, or pass --symbol and --timeframe)"
        )
    base, quote, timeframe = match.groups()
    timeframe_ms(timeframe)
    return Symbol(f"{base.upper()}/{quote.upper()}"), timeframe


def read_candle_csv(path: Path) -> CandleFrame:
    """Parse and validate a whole file into one frame; InputError names the file and line of a problem."""
    chunks = list(iter_candle_chunks(path))
    arrays = [np.concatenate([getattr(c, name) for c in chunks]) for name in COLUMNS]
    return CandleFrame(*arrays)


def iter_candle_chunks(path: Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[CandleFrame]:
    """Yield validated frames of at most ``chunk_rows`` candles, in file order.

    Raises InputError (naming ``path:line``) at the first bad row, so a consumer may already have
    received earlier chunks: store them in a transaction that the error rolls back.
    """
    try:
        with _open_text(path) as stream:
            yield from _chunks(path, stream, chunk_rows)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc


def _open_text(path: Path) -> IO[str]:
    with path.open("rb") as probe:
        packed = probe.read(2) == _GZIP_MAGIC
    # utf-8-sig tolerates the byte-order mark some spreadsheet exports add
    if packed:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def _chunks(path: Path, stream: IO[str], chunk_rows: int) -> Iterator[CandleFrame]:
    lines: list[int] = []
    rows: list[list[float]] = []
    previous: tuple[int, int] | None = None  # (open time, line) of the last row of the previous chunk
    for number, fields in enumerate(csv.reader(stream), start=1):
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if number == 1 and not fields[0].strip().lstrip("-").isdigit():
            _check_header(path, fields)
            continue
        rows.append(_parse_row(path, number, fields))
        lines.append(number)
        if len(rows) >= chunk_rows:
            frame = _checked(path, rows, lines, previous)
            previous = (int(frame.timestamp[-1]), lines[-1])
            yield frame
            rows, lines = [], []
    if rows:
        yield _checked(path, rows, lines, previous)
    elif previous is None:
        raise InputError(f"{path}: no candles found")


def _check_header(path: Path, fields: list[str]) -> None:
    names = tuple(f.strip().lower() for f in fields)
    if names != COLUMNS:
        raise InputError(f"{path}:1: header {','.join(fields)!r} is not {','.join(COLUMNS)!r}")


def _parse_row(path: Path, number: int, fields: list[str]) -> list[float]:
    where = f"{path}:{number}"
    if len(fields) != len(COLUMNS):
        raise InputError(f"{where}: expected {len(COLUMNS)} fields ({','.join(COLUMNS)}), got {len(fields)}")
    try:
        ts = int(fields[0])
    except ValueError:
        raise InputError(f"{where}: timestamp {fields[0]!r} is not whole milliseconds") from None
    if ts < MIN_TIMESTAMP_MS:
        raise InputError(f"{where}: timestamp {ts} is before 2000 (seconds instead of milliseconds?)")
    if ts >= MAX_TIMESTAMP_MS:
        raise InputError(f"{where}: timestamp {ts} is after 2100 (milliseconds since 1970 expected)")
    values: list[float] = [float(ts)]
    for name, field in zip(COLUMNS[1:], fields[1:], strict=True):
        try:
            value = float(field)
        except ValueError:
            raise InputError(f"{where}: {name} {field!r} is not a number") from None
        if not math.isfinite(value) or value < 0:
            raise InputError(f"{where}: {name} {field!r} must be a finite number >= 0")
        values.append(value)
    return values


def _checked(path: Path, rows: list[list[float]], lines: list[int],
             previous: tuple[int, int] | None) -> CandleFrame:
    """Return the rows as a frame after the ordering rule and the whole-row rules (``candle_faults``);
    InputError names the earliest offending line."""
    table = np.asarray(rows, dtype=np.float64)
    ts = table[:, 0].astype(np.int64)
    before = np.r_[previous[0] if previous else np.iinfo(np.int64).min, ts[:-1]]
    disorder = ts <= before
    if disorder.any():
        line = lines[int(np.argmax(disorder))]
        raise InputError(f"{path}:{line}: timestamp is not after the previous row's (unsorted or duplicate)")
    frame = CandleFrame(ts, *(np.ascontiguousarray(table[:, i]) for i in range(1, 6)))
    found = [(int(np.argmax(mask)), why) for mask, why in candle_faults(frame) if mask.any()]
    if found:
        index, why = min(found)
        raise InputError(f"{path}:{lines[index]}: {why}")
    return frame
