"""Time each registered strategy's ``compute`` on a year of 1-minute candles (525,600 rows).

The bundled real BTC/USDT 1m month is chained end to end (each copy rescaled so prices join up)
to a year. Prints median and best of several runs. Run: ``.venv/bin/python examples/bench_strategies.py``
"""

from __future__ import annotations

import argparse
import statistics
import timeit
from pathlib import Path

import numpy as np
import pandas as pd

from trader.domain.candles import CandleFrame
from trader.strategies import registry

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
    print(f"{len(candles):,} candles, median/best of {args.repeat} runs")
    print(f"{'strategy':24s} {'median ms':>10s} {'best ms':>8s} {'entries':>8s}")
    for name in names:
        strategy = registry.create(name, {})
        signals = strategy.compute(candles)  # warm caches and imports
        runs = timeit.repeat(lambda s=strategy: s.compute(candles), number=1, repeat=args.repeat)
        entries = int(signals.enter_long.sum() + signals.enter_short.sum())
        print(f"{name:24s} {statistics.median(runs) * 1e3:10.1f} {min(runs) * 1e3:8.1f} {entries:8d}")


if __name__ == "__main__":
    main()
