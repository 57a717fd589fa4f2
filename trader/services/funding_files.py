"""Funding-rate history files for backtests of perpetuals: ``BASE_QUOTE-funding.csv`` (time,rate).

``time`` is the funding time as an ISO 8601 UTC timestamp, ``rate`` the rate charged then (positive:
longs pay shorts). ``tradebot data fetch --funding`` writes them; ``tradebot backtest --funding-dir``
reads them into ``BacktestSettings.funding``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from trader.core.domain.candles import datetime_to_ms
from trader.core.domain.ids import Symbol
from trader.core.errors import DataError

Rates = tuple[tuple[int, Decimal], ...]


def funding_path(folder: Path, pair: str) -> Path:
    """Return the file of ``pair``'s funding rates in ``folder``."""
    return folder / f"{pair.replace('/', '_')}-funding.csv"


def write_funding_csv(folder: Path, pair: str, rows: Iterable[tuple[datetime, Decimal]]) -> Path:
    """Write ``rows`` (time, rate), oldest first, as ``pair``'s funding file; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = funding_path(folder, pair)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["time", "rate"])
        for at, rate in rows:
            out.writerow([at.isoformat(), f"{rate:f}"])
    return path


def read_funding(folder: Path, pairs: Iterable[Symbol]) -> dict[Symbol, Rates]:
    """Return the funding rates of every pair that has a file in ``folder`` (epoch ms, rate) ascending."""
    found: dict[Symbol, Rates] = {}
    for pair in pairs:
        path = funding_path(folder, pair)
        if not path.is_file():
            continue
        try:
            with path.open(newline="") as fh:
                rows = [(datetime_to_ms(datetime.fromisoformat(r["time"])), Decimal(r["rate"]))
                        for r in csv.DictReader(fh)]
        except (KeyError, ValueError, ArithmeticError) as exc:
            raise DataError(f"{path} is not a funding-rate file (time,rate): {exc}") from exc
        found[pair] = tuple(sorted(rows))
    return found
