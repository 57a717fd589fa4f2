"""Time each registered strategy's ``compute`` on a year of 1-minute candles (525,600 rows).

The bundled real BTC/USDT 1m month is chained end to end (each copy rescaled so prices join up)
to a year. Prints wall-clock median and best of several runs, and the median process CPU time
(less disturbed by other processes on a shared machine; it includes page-fault time).
Run: ``.venv/bin/python bench/strategies.py [names...] [--repeat 15]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from trader.core.domain.candles import CandleFrame
from trader.core.strategies import registry

SAMPLE = Path(__file__).resolve().parents[1] / "trader" / "data" / "sample" / "BTC_USDT-1m.csv.gz"
YEAR_OF_MINUTES = 525_600


def year_of_minutes() -> CandleFrame:
    """Return 525,600 one-minute candles built from the bundled real month."""
    month = pd.read_csv(SAMPLE)
    growth = month["close"].iloc[-1] / month["close"].iloc[0]
    copies = -(-YEAR_OF_MINUTES // len(month))
    parts = []
    for k in range(copies):
        part = month.copy()
        part[["open", "high", "low", "close"]] *= growth**k
        parts.append(part)
    year = pd.concat(parts, ignore_index=True).head(YEAR_OF_MINUTES)
    year["timestamp"] = 1_700_000_000_000 + np.arange(len(year), dtype=np.int64) * 60_000
    return CandleFrame.from_dataframe(year)


def main() -> None:
    """Print a table of compute times per strategy."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="strategies to time (default: all registered)")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    candles = year_of_minutes()
    names = args.names or registry.default_registry().names()
    print(f"{len(candles):,} candles, {args.repeat} runs each")
    header = ("wall median ms", "wall best ms", "cpu median ms", "entries")
    print(f"{'strategy':24s} {header[0]:>15s} {header[1]:>13s} {header[2]:>14s} {header[3]:>8s}")
    for name in names:
        strategy = registry.create(name, {})
        signals = strategy.compute(candles)  # warm caches and imports
        wall, cpu = [], []
        for _ in range(args.repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            strategy.compute(candles)
            wall.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        entries = int(signals.enter_long.sum() + signals.enter_short.sum())
        print(
            f"{name:24s} {statistics.median(wall) * 1e3:15.1f} {min(wall) * 1e3:13.1f}"
            f" {statistics.median(cpu) * 1e3:14.1f} {entries:8d}"
        )


if __name__ == "__main__":
    main()
