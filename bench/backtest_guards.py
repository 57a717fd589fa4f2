"""Backtests whose risk guards act: the compiled loop against the Decimal fast path and the engine path.

One pair, the bundled BTC/USDT 1h candles (20,198) and a 1-minute GBM year (525,600), each strategy
with ``RiskConfig()``'s defaults (drawdown 20 %, daily loss 5 %, cooldowns 60/240 min, 20 trades a
day, 4 stops in a row) and with tighter guards (``TIGHT``) that refuse more often. Before the
compiled loop had the risk memory these runs took the fast path. Prints the median of ``--runs``
and the ratios, which are the fair figures on a shared machine; checks the paths agree on trades.
"""

from __future__ import annotations

import argparse
import statistics
import time
from decimal import Decimal

from backtest_peers import gbm_minutes  # the peers bench's 1-minute year (bench/ is on sys.path)

from trader.cli.backtest_cmd import SAMPLE_DIR, load_candles
from trader.config.sections import RiskConfig
from trader.core.backtest.api import run_backtest
from trader.core.backtest.result import BacktestResult
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import Symbol
from trader.core.strategies.base import Strategy
from trader.core.strategies.registry import create

BTC = Symbol("BTC/USDT")
TIGHT = RiskConfig(max_drawdown_pct=Decimal("0.3"), daily_loss_limit_pct=Decimal("0.01"),
                   cooldown_minutes=120, cooldown_after_loss_minutes=600, max_trades_per_day=2,
                   max_consecutive_stops=2)


def timed(run: object, runs: int) -> tuple[float, BacktestResult]:
    """Return the median seconds of ``runs`` calls of ``run`` and its last result."""
    times, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = run()  # type: ignore[operator]
        times.append(time.perf_counter() - began)
    assert isinstance(result, BacktestResult)
    return statistics.median(times), result


def paths(strategy: Strategy, candles: dict[Symbol, CandleFrame], settings: BacktestSettings, runs: int, *,
          engine: bool) -> list[tuple[str, float, BacktestResult]]:
    """Return (path, median s, result) of the compiled loop, the fast path and (``engine``) the engine."""
    run_backtest(strategy, candles, settings)  # warm: numba cache, imports
    rows = [("compiled", *timed(lambda: run_backtest(strategy, candles, settings), runs)),
            ("fast", *timed(lambda: run_backtest(strategy, candles, settings, compiled=False), runs))]
    if engine:
        engine_run = timed(lambda: run_backtest(strategy, candles, settings, engine_path=True), 1)
        rows.append(("engine", *engine_run))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-minutes", action="store_true", help="skip the 1-minute year")
    args = parser.parse_args()
    data = [("BTC 1h", "1h", load_candles(SAMPLE_DIR, BTC, "1h", None, None))]
    if not args.no_minutes:
        data.append(("GBM 1m year", "1m", gbm_minutes()))
    print(f"{'data':<12} {'strategy':<20} {'risk':<8} {'path':<9} {'median s':>9} {'trades':>6} "
          f"{'refused':>7} {'halts':>5} {'x compiled':>10}")
    for label, tf, frame in data:
        for name in ("breakout", "bollinger_reversion"):
            for risk_name, risk in (("default", RiskConfig()), ("tight", TIGHT)):
                settings = BacktestSettings(name, tf, risk=risk)
                rows = paths(create(name, {}), {BTC: frame}, settings, args.runs, engine=tf == "1h")
                base = rows[0][1]
                for path, seconds, result in rows:
                    assert [(t.entry_time, t.exit_price, t.pnl) for t in result.trades] == \
                        [(t.entry_time, t.exit_price, t.pnl) for t in rows[0][2].trades], (label, name, path)
                    assert result.stops == rows[0][2].stops
                    ran = result.path.split(" ")[0]
                    print(f"{label:<12} {name:<20} {risk_name:<8} {ran:<9} {seconds:>9.3f} "
                          f"{len(result.trades):>6} {result.stops.refused:>7} {len(result.stops.halts):>5} "
                          f"{seconds / base:>9.1f}x")


if __name__ == "__main__":
    main()
