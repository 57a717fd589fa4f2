"""The compiled backtest loop alone (``backtest.compiled._loop``) on backtest_peers' 1-minute year.

Run: .venv/bin/python bench/compiled_loop.py [--runs N] [--cold]

The inputs are the ones ``run_compiled`` hands the loop (backtest_peers' seeded GBM year, its bollinger
and breakout settings), built once; only the loop call is timed, in process CPU time (steadier than
wall time on a shared machine), N times: min and median. --cold evicts the caches before each call,
as the strategy's indicators do before the loop in a real run (the loop then waits on memory more
than it computes). The digest of the loop's records shows a speed change left every decision alone.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import backtest_peers as peers  # noqa: E402 - the bench's own data and strategy settings

from trader.core.backtest import compiled  # noqa: E402
from trader.core.backtest import compiled_risk as cr  # noqa: E402
from trader.core.backtest import compiled_rules as cr_rules  # noqa: E402
from trader.core.backtest.markets import default_market  # noqa: E402
from trader.core.backtest.runner import BacktestSettings  # noqa: E402
from trader.core.domain.candles import CandleFrame, timeframe_ms  # noqa: E402
from trader.core.engine.inputs import EngineConfig  # noqa: E402
from trader.core.sim.costs import FeeModel  # noqa: E402
from trader.core.strategies.registry import create  # noqa: E402


def loop_call(case: peers.Case, frame: CandleFrame) -> Callable[[], tuple[int, np.ndarray, int]]:
    """Return a call of the loop on ``case``'s inputs, set up as ``compiled.run_compiled`` sets them up."""
    settings = BacktestSettings(case.strategy, "1m", risk=peers.risk_config(case),
                                fees=FeeModel.flat(Decimal(str(peers.FEE))),
                                start_balance=Decimal(int(peers.CASH)))
    signals = create(case.strategy, case.params).compute(frame)
    market = default_market(peers.PAIR, float(frame.close[0]))
    risk = settings.risk
    p = cr_rules.params(settings, market)
    sides = cr_rules.entry_sides(signals, settings.allow_short)
    candidates = np.flatnonzero(sides).astype(np.int64, copy=False)
    low = cr_rules.below_floor_at(signals.confidence, candidates, sides > 0, risk.min_confidence)
    trail = EngineConfig(settings.strategy, risk, {peers.PAIR: market}).context(peers.PAIR).trail.as_array()
    closes_ms = frame.timestamp + timeframe_ms("1m")
    clock = (frame.timestamp, closes_ms, *cr_rules.clock_days(frame.timestamp, closes_ms, risk.timezone))
    detail, _ = cr_rules.detail_arrays([None])

    def call() -> tuple[int, np.ndarray, int]:
        memory, money = cr.new_memory()
        days = np.zeros(len(frame) + 2, dtype=np.int64)
        return compiled._loop((frame.open, frame.high, frame.low, frame.close), sides,  # type: ignore[no-any-return]
                              signals.exit_long, signals.stop_loss, signals.take_profit, signals.confidence,
                              low, candidates, trail, p, clock, (memory, money, days), detail, 0.0)

    return call


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="timed calls per strategy")
    parser.add_argument("--cold", action="store_true", help="evict the caches before each call")
    args = parser.parse_args()
    frame = peers.gbm_minutes()
    junk = np.ones(16_000_000)  # 128 MB: more than the caches hold
    for case in peers.CASES:
        call = loop_call(case, frame)
        status, records, count = call()  # compiles or loads numba's cache: not timed
        times = []
        for _ in range(args.runs):
            if args.cold:
                junk += 1.0
            t0 = time.process_time()
            call()
            times.append(time.process_time() - t0)
        digest = hashlib.sha256(np.ascontiguousarray(records[:count]).tobytes()).hexdigest()[:16]
        print(f"{case.name}: status {status}, {count} rows, records sha256 {digest}; loop CPU min "
              f"{min(times) * 1e3:.2f} ms, median {statistics.median(times) * 1e3:.2f} ms "
              f"({args.runs} calls{', cold caches' if args.cold else ''})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
