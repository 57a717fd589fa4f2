"""Optimiser throughput: trials per second with one in-process worker vs a WorkerPool of processes.

Breakout on the bundled BTC+ETH 1h candles (a year-long train window), 4 searched parameters, default
risk settings: two pairs sharing the account with guards that can act, which the compiled loop for
several pairs (``backtest.compiled_pairs``) covers (before it, the Decimal fast path ``fast_pairs``
ran them: 43.7 trials/s on the 2-CPU dev machine, against 30 with the engine path). A second study
searches the same space on BTC alone with the guards out of the way, which the compiled loop
(``backtest.compiled``) covers: the optimiser's speed where trials run compiled; a third on BTC alone
with the default guards (drawdown, daily loss, cooldowns, per-day limits), which the compiled loop
covers too since its risk memory was compiled.
Prints the pool's start-up cost separately: it is paid once per `tradebot optimise` run.
"""

from __future__ import annotations

import os
import tempfile
import time
from decimal import Decimal

from trader.cli.backtest_cmd import SAMPLE_DIR, load_candles
from trader.config.sections import RiskConfig
from trader.core.backtest.api import run_backtest
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


INERT = RiskConfig(sizing="all_in", max_position_pct=Decimal("0.98"), cooldown_minutes=0,
                   cooldown_after_loss_minutes=0, max_trades_per_day=100_000, daily_loss_limit_pct=Decimal(1),
                   max_drawdown_pct=Decimal(1), max_consecutive_stops=100_000)


def task(pairs: tuple[Symbol, ...] = (Symbol("BTC/USDT"), Symbol("ETH/USDT")),
         risk: RiskConfig | None = None) -> SearchTask:
    candles = {p: load_candles(SAMPLE_DIR, p, "1h", None, None) for p in pairs}
    ts = candles[pairs[0]].timestamp
    space = search_space(BreakoutStrategy.params_spec, (), {
        "lookback": "10:60", "ema_fast": "5:30", "reward_risk": "1:4:0.5", "stop_mode": "level,atr"})
    settings = BacktestSettings("breakout", "1h", risk=risk or RiskConfig())
    return SearchTask("breakout", {}, space, candles, settings, Objective(min_trades=3),
                      Window(int(ts[2000]), int(ts[2000 + 8760])))


def one_worker(work: SearchTask, name: str) -> float:
    """Return the seconds a one-worker, in-process study of TRIALS trials takes (after a warm-up)."""
    run_trials(create_study(work, StudyPlan(f"{name}-warm", None, 3)), work, 3)  # imports, numba cache
    study = create_study(work, StudyPlan(name, None, TRIALS))
    began = time.perf_counter()
    run_trials(study, work, TRIALS)
    return time.perf_counter() - began


def main() -> None:
    work = task()
    probe = run_backtest(BreakoutStrategy(), work.candles, work.settings)
    rows = [(f"1 worker, in process, memory storage ({probe.path})", 0.0, one_worker(work, "one"))]
    single = task((Symbol("BTC/USDT"),), INERT)
    probe = run_backtest(BreakoutStrategy(), single.candles, single.settings)
    rows.append((f"1 worker, BTC only, guards inert ({probe.path})", 0.0, one_worker(single, "compiled")))
    guarded = task((Symbol("BTC/USDT"),))
    probe = run_backtest(BreakoutStrategy(), guarded.candles, guarded.settings)
    rows.append((f"1 worker, BTC only, default guards ({probe.path})", 0.0, one_worker(guarded, "guarded")))
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
    print(f"{'setup':<56} {'start-up s':>10} {'study s':>8} {'trials/s':>9}")
    for name, startup, seconds in rows:
        print(f"{name:<56} {startup:>10.1f} {seconds:>8.1f} {TRIALS / seconds:>9.1f}")
    print(f"before the fast path (issue 22, quiet machine): {BASELINE_ONE_WORKER:.0f} trials/s with one "
          f"worker; now {TRIALS / rows[0][2] / BASELINE_ONE_WORKER:.2f}x that (this machine's load included)")


if __name__ == "__main__":
    main()
