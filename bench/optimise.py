"""Optimiser throughput: trials per second with one in-process worker vs a WorkerPool of processes.

Breakout on the bundled BTC+ETH 1h candles (a year-long train window), 4 searched parameters.
Prints the pool's start-up cost separately: it is paid once per `tradebot optimise` run.
"""

from __future__ import annotations

import os
import tempfile
import time

from trader.cli.backtest_cmd import SAMPLE_DIR, load_candles
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.ids import Symbol
from trader.core.optimise.folds import Window
from trader.core.optimise.objectives import Objective
from trader.core.optimise.space import search_space
from trader.core.optimise.study.pool import WorkerPool
from trader.core.optimise.study.search import SearchTask
from trader.core.optimise.study.workers import StudyPlan, create_study, run_trials
from trader.core.strategies.breakout import BreakoutStrategy

TRIALS = 60
BASELINE_ONE_WORKER = 30.0  # trials/s measured with the engine path before the fast path existed


def task() -> SearchTask:
    pairs = (Symbol("BTC/USDT"), Symbol("ETH/USDT"))
    candles = {p: load_candles(SAMPLE_DIR, p, "1h", None, None) for p in pairs}
    ts = candles[pairs[0]].timestamp
    space = search_space(BreakoutStrategy.params_spec, (), {
        "lookback": "10:60", "ema_fast": "5:30", "reward_risk": "1:4:0.5", "stop_mode": "level,atr"})
    settings = BacktestSettings("breakout", "1h")
    return SearchTask("breakout", {}, space, candles, settings, Objective(min_trades=3),
                      Window(int(ts[2000]), int(ts[2000 + 8760])))


def main() -> None:
    work = task()
    rows = []
    study = create_study(work, StudyPlan("one", None, TRIALS))
    began = time.perf_counter()
    run_trials(study, work, TRIALS)
    rows.append(("1 worker, in process, memory storage", 0.0, time.perf_counter() - began))
    jobs = max(2, os.cpu_count() or 1)
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        with WorkerPool(jobs) as pool:
            warm = StudyPlan("warm", f"journal:{tmp}/warm.log", jobs, jobs=jobs)
            create_study(work, warm)
            pool.run(work, warm)  # every worker imports and compiles before the timed study
            startup = time.perf_counter() - began
            plan = StudyPlan("timed", f"journal:{tmp}/timed.log", TRIALS, jobs=jobs)
            create_study(work, plan)
            began = time.perf_counter()
            pool.run(work, plan)
            rows.append((f"{jobs} worker processes, journal storage", startup, time.perf_counter() - began))
    print(f"breakout, BTC+ETH 1h, one-year train window, {TRIALS} trials, {os.cpu_count()} CPUs")
    print(f"{'setup':<40} {'start-up s':>10} {'study s':>8} {'trials/s':>9}")
    for name, startup, seconds in rows:
        print(f"{name:<40} {startup:>10.1f} {seconds:>8.1f} {TRIALS / seconds:>9.1f}")
    print(f"before the fast path (issue 22, quiet machine): {BASELINE_ONE_WORKER:.0f} trials/s with one "
          f"worker; now {TRIALS / rows[0][2] / BASELINE_ONE_WORKER:.2f}x that (this machine's load included)")


if __name__ == "__main__":
    main()
