"""Benchmark chart rendering and the analytics behind reports; prints a table of median timings.

Run: .venv/bin/python bench/charts.py [--repeat N]
Charts: 200 BTC 1h candles with EMA + Bollinger overlays, markers and stop/TP/trailing lines; an equity
curve of 525,600 minute points (one year) with drawdown; a monthly heatmap. Analytics: KPIs over
10,000 trades + 525,600 equity points, the per-period tables, and an ATO CGT report of 10,000 fills.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from trader.adapters.charts.candles import (
    BandOverlay,
    CandleChart,
    LevelKind,
    LineOverlay,
    MarkerKind,
    PriceLevel,
    TradeMarker,
    render_candles,
)
from trader.adapters.charts.equity import render_equity
from trader.adapters.charts.performance import render_monthly_heatmap, render_pair_pnl
from trader.core.analytics.curve import monthly_returns
from trader.core.analytics.kpis import compute_kpis
from trader.core.analytics.records import TradeRecord
from trader.core.analytics.tables import Period, TradeFilter, by_pair, by_period, trade_history
from trader.core.analytics.tax import AudRates, MatchMethod, build_cgt_report, events_from_fills
from trader.core.domain.candles import CandleFrame
from trader.core.domain.enums import Direction, Side
from trader.core.domain.ids import ClientOrderId, Symbol
from trader.core.domain.orders import Fill

SAMPLE = Path(__file__).resolve().parents[1] / "trader" / "data" / "sample" / "BTC_USDT-1h.csv.gz"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
FY_START = datetime(2023, 7, 1, tzinfo=UTC)  # 10,000 fills 50 minutes apart stay inside FY2023-24


def candle_chart() -> CandleChart:
    frame = CandleFrame.from_dataframe(pd.read_csv(SAMPLE).tail(200).reset_index(drop=True))
    close = pd.Series(frame.close)
    mid, sd = close.rolling(20).mean().to_numpy(), close.rolling(20).std().to_numpy()

    def at(i: int) -> datetime:
        return datetime.fromtimestamp(int(frame.timestamp[i]) / 1000, tz=UTC)

    return CandleChart(
        "BTC/USDT 1h", frame,
        lines=[LineOverlay("EMA 20", close.ewm(span=20).mean().to_numpy()),
               LineOverlay("EMA 50", close.ewm(span=50).mean().to_numpy())],
        bands=[BandOverlay("BB 20,2", mid + 2 * sd, mid - 2 * sd, mid)],
        markers=[TradeMarker(at(120), float(frame.close[120]), MarkerKind.ENTRY),
                 TradeMarker(at(170), float(frame.close[170]), MarkerKind.EXIT)],
        levels=[PriceLevel(LevelKind.STOP, float(frame.close[-1]) * 0.97),
                PriceLevel(LevelKind.TAKE_PROFIT, float(frame.close[-1]) * 1.05),
                PriceLevel(LevelKind.TRAILING, float(frame.close[-1]) * 0.985)],
    )


def minute_equity(rng: np.random.Generator) -> pd.Series:
    index = pd.date_range(T0, periods=525_600, freq="min", tz="UTC")
    return pd.Series(10_000 * np.exp(np.cumsum(rng.normal(2e-6, 8e-4, len(index)))), index=index)


def trades(rng: np.random.Generator, n: int = 10_000) -> list[TradeRecord]:
    out = []
    for i in range(n):
        entry = T0 + timedelta(minutes=int(i * 52))
        pnl = Decimal(f"{rng.normal(0.5, 20):.2f}")
        out.append(TradeRecord(f"P{i % 12}/USDT", f"s{i % 3}", Direction.LONG, entry,
                               entry + timedelta(minutes=30), Decimal(100), Decimal(101), Decimal(1),
                               Decimal("0.2"), pnl, "signal"))
    return out


def fills(n: int = 10_000) -> list[Fill]:
    out = []
    for i in range(n):
        side = Side.BUY if i % 2 == 0 else Side.SELL
        out.append(Fill(str(i), ClientOrderId(""), Symbol("BTC/AUD"), side, Decimal("0.01"),
                        Decimal(40_000 + (i * 37) % 5000), Decimal("0.4"), "AUD",
                        FY_START + timedelta(minutes=50 * i)))
    return out


def median_ms(work: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Return the median (wall, CPU) milliseconds; CPU time is steadier on a shared machine."""
    work()  # warm-up: imports, font cache
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        work()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    chart, equity, trade_list, fill_list = candle_chart(), minute_equity(rng), trades(rng), fills()
    hourly = equity.iloc[::60]
    cases: list[tuple[str, Callable[[], object]]] = [
        ("candles 200 + overlays, markers, levels (PNG)", lambda: render_candles(chart)),
        ("equity 525,600 points + drawdown (PNG)", lambda: render_equity(equity)),
        ("monthly returns heatmap, 1 year (PNG)", lambda: render_monthly_heatmap(monthly_returns(hourly))),
        ("per-pair PnL bars, 12 pairs (PNG)", lambda: render_pair_pnl(by_pair(trade_list))),
        ("KPIs: 10,000 trades + 525,600 equity points", lambda: compute_kpis(trade_list, equity)),
        ("tables: by pair + by day, 10,000 trades",
         lambda: (by_pair(trade_list), by_period(trade_list, Period.DAY))),
        ("trade history page 3, filtered, 10,000 trades",
         lambda: trade_history(trade_list, TradeFilter(symbol="P3/USDT"), page=2)),
        ("ATO CGT report, 10,000 fills, highest-cost",
         lambda: build_cgt_report(events_from_fills(fill_list, AudRates([])), 2024,
                                  MatchMethod.HIGHEST_COST)),
    ]
    print(f"{'case':<52} {'wall ms':>9} {'cpu ms':>9}")
    print("-" * 72)
    for name, work in cases:
        wall, cpu = median_ms(work, args.repeat)
        print(f"{name:<52} {wall:>9.1f} {cpu:>9.1f}")
    print(f"\nmedian of {args.repeat} runs after one warm-up; wall = perf_counter, cpu = process_time")


if __name__ == "__main__":
    main()
