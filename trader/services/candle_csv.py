"""Read OHLCV CSV files (gzip or plain): ``timestamp,open,high,low,close,volume``, UTC milliseconds.

Every problem names the file and the line, and nothing is returned for a file with any bad row, so an
import is all or nothing. File names like ``BTC_USDT-1h.csv.gz`` give the pair and timeframe.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import re
from pathlib import Path

import numpy as np

from trader.domain.candles import COLUMNS, CandleFrame, timeframe_ms
from trader.domain.ids import Symbol
from trader.errors import InputError

_NAME = re.compile(r"^([A-Za-z0-9]+)_([A-Za-z0-9]+)-(\d+[mhdw])(?:\.csv)?(?:\.gz)?$")
_MIN_MS = 946_684_800_000  # 2000-01-01: anything earlier is almost surely seconds, not milliseconds
_GZIP_MAGIC = b"\x1f\x8b"


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
    """Parse and validate a whole file; InputError names the file and line of the first problem."""
    try:
        raw = path.read_bytes()
        data = gzip.decompress(raw) if raw.startswith(_GZIP_MAGIC) else raw
        text = data.decode("utf-8-sig")  # tolerate the byte-order mark some spreadsheet exports add
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc
    lines: list[int] = []
    rows: list[list[float]] = []
    for number, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if number == 1 and not fields[0].strip().lstrip("-").isdigit():
            _check_header(path, fields)
            continue
        rows.append(_parse_row(path, number, fields))
        lines.append(number)
    if not rows:
        raise InputError(f"{path}: no candles found")
    table = np.asarray(rows, dtype=np.float64)
    _check_table(path, table, np.asarray(lines))
    return CandleFrame.from_arrays(table)


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
    if ts < _MIN_MS:
        raise InputError(f"{where}: timestamp {ts} is before 2000 (seconds instead of milliseconds?)")
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


def _check_table(path: Path, table: np.ndarray, lines: np.ndarray) -> None:  # type: ignore[type-arg]
    ts, o, h, lo, c = (table[:, i] for i in range(5))
    problems = [
        (np.r_[False, np.diff(ts) <= 0], "timestamp is not after the previous row's (unsorted or duplicate)"),
        (h < np.maximum(o, c), "high is below open or close"),
        (lo > np.minimum(o, c), "low is above open or close"),
    ]
    for mask, why in problems:
        if mask.any():
            first = int(np.argmax(mask))
            raise InputError(f"{path}:{int(lines[first])}: {why}")
