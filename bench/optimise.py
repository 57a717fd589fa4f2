"""Optimiser throughput: trials per second with one in-process worker vs a WorkerPool of processes.

Breakout on the bundled BTC+ETH 1h candles (a year-long train window), 4 searched parameters, default
risk settings: two pairs sharing the account with guards that can act, which the compiled loop for
several pairs (``backtest.compiled_pairs``) covers (before it, the Decimal fast path ``fast_pairs``
ran them: 43.7 trials/s on the 2-CPU dev machine, against 30 with the engine path). A second study
searches the same space on BTC alone with the guards out of the way, which the compiled loop
(``backtest.compiled``) covers; a third on BTC alone with the default guards (drawdown, daily loss,
cooldowns, per-day limits), which the compiled loop covers too since its risk memory was compiled.
Each study's label names the path ``run_backtest`` picks for it.

Each study runs one by one as before batches (``study.optimize``, Optuna's own TPE, every trial
computing its own indicators), then as ``run_trials`` does now (ask/tell batches, indicators and
repeated sets shared across the study): TPE one trial at a time, then each sampler in batches of
DEFAULT_BATCH. The row marked DEFAULT is what `tradebot optimise --jobs 1` runs with no other option
(``default_batch(1)``). A last row runs a WorkerPool; its start-up cost is printed separately: it is
paid once per `tradebot optimise` run.

``--quality`` prints the best train score each configuration reaches instead, Optuna's own TPE one
trial at a time (the default before batches) first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from decimal import Decimal

import optuna

from trader.cli.backtest_cmd import SAMPLE_DIR, load_candles
from trader.config.sections import RiskConfig
from trader.core.backtest.api import run_backtest
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.ids import Symbol
from trader.core.optimise.folds import Window
from trader.core.optimise.objectives import Objective
from trader.core.optimise.space import search_space
from trader.core.optimise.study import DEFAULT_BATCH, SAMPLERS, default_batch
from trader.core.optimise.study.pool import WorkerPool
from trader.core.optimise.study.search import SearchTask, TrialObjective
from trader.core.optimise.study.workers import StudyPlan, create_study, run_trials
from trader.core.strategies.breakout import BreakoutStrategy

TRIALS = 60
BTC, ETH = Symbol("BTC/USDT"), Symbol("ETH/USDT")
BASELINE_ONE_WORKER = 30.0  # trials/s measured with the engine path before the fast path existed


INERT = RiskConfig(sizing="all_in", max_position_pct=Decimal("0.98"), cooldown_minutes=0,
                   cooldown_after_loss_minutes=0, max_trades_per_day=100_000, daily_loss_limit_pct=Decimal(1),
                   max_drawdown_pct=Decimal(1), max_consecutive_stops=100_000)


def task(pairs: tuple[Symbol, ...] = (BTC, ETH), risk: RiskConfig | None = None) -> SearchTask:
    candles = {p: load_candles(SAMPLE_DIR, p, "1h", None, None) for p in pairs}
    ts = candles[pairs[0]].timestamp
    space = search_space(BreakoutStrategy.params_spec, (), {
        "lookback": "10:60", "ema_fast": "5:30", "reward_risk": "1:4:0.5", "stop_mode": "level,atr"})
    settings = BacktestSettings("breakout", "1h", risk=risk or RiskConfig())
    return SearchTask("breakout", {}, space, candles, settings, Objective(min_trades=3),
                      Window(int(ts[2000]), int(ts[2000 + 8760])))


def one_by_one(work: SearchTask, name: str) -> tuple[float, float]:
    """Return the (wall, CPU) seconds of TRIALS trials evaluated one by one as before batches:
    ``study.optimize`` with TPE, every trial computing its own indicators (no cache)."""
    study = optuna_tpe(work, StudyPlan(name, None, TRIALS, batch=1))
    began, cpu = time.perf_counter(), time.process_time()
    study.optimize(TrialObjective(work, "bench"), n_trials=TRIALS)
    return time.perf_counter() - began, time.process_time() - cpu


def optuna_tpe(work: SearchTask, plan: StudyPlan) -> optuna.Study:
    """Return the plan's study with Optuna's own TPESampler, the default before batches."""
    study = create_study(work, plan)
    startup = min(10, max(3, plan.trials // 3))
    study.sampler = optuna.samplers.TPESampler(seed=plan.seed, n_startup_trials=startup)
    return study


def batched(work: SearchTask, name: str, sampler: str, batch: int) -> tuple[float, float]:
    """Return the (wall, CPU) seconds of a one-worker study of TRIALS trials asked and evaluated in
    batches. CPU time is steadier than wall time on a shared machine (the process's own work)."""
    study = create_study(work, StudyPlan(name, None, TRIALS, sampler=sampler, batch=batch))
    began, cpu = time.perf_counter(), time.process_time()
    run_trials(study, work, TRIALS, batch)
    return time.perf_counter() - began, time.process_time() - cpu


def studies() -> list[tuple[str, SearchTask]]:
    """Return the bench's studies, each named with the backtest path ``run_backtest`` picks for it."""
    out = []
    for label, pairs, risk in (("BTC+ETH, default risk", (BTC, ETH), None),
                               ("BTC only, guards inert", (BTC,), INERT),
                               ("BTC only, default guards", (BTC,), None)):
        work = task(pairs, risk)
        probe = run_backtest(BreakoutStrategy(), work.candles, work.settings)
        out.append((f"{label} ({probe.path})", work))
    return out


def pool_row(work: SearchTask) -> tuple[int, float, float]:
    """Return (jobs, start-up s, study s) of a WorkerPool study (the CLI's defaults: TPE, batch
    ``default_batch(jobs)``; several workers sample with Optuna's TPESampler)."""
    jobs = max(2, os.cpu_count() or 1)
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        with WorkerPool(jobs) as pool:
            warm = StudyPlan("warm", f"journal:{tmp}/warm.log", jobs, jobs=jobs)
            create_study(work, warm)
            pool.run(work, warm)  # every worker imports and compiles before the timed study
            startup = time.perf_counter() - began
            plan = StudyPlan("timed", f"journal:{tmp}/timed.log", TRIALS, jobs=jobs,
                             batch=default_batch(jobs))
            create_study(work, plan)
            began = time.perf_counter()
            pool.run(work, plan)
            return jobs, startup, time.perf_counter() - began


CONFIGS = (("optuna tpe", 1), ("tpe", 1), ("tpe", DEFAULT_BATCH), ("random", DEFAULT_BATCH),
           ("qmc", DEFAULT_BATCH))


def quality(seeds: int = 10) -> None:
    """Print the best train objective each (sampler, batch) reaches after 30, 60 and 150 trials, over
    seeds: Optuna's TPE one trial at a time (the default before batches) against the others."""
    work = task((BTC,))
    print(f"best train {work.objective.name}, BTC only, default guards, {seeds} seeds: mean (min-max)")
    for trials in (30, 60, 150):
        cells = []
        for sampler, batch in CONFIGS:
            best = []
            for seed in range(seeds):
                plan = StudyPlan(f"q-{sampler}-{seed}-{trials}", None, trials, seed=seed,
                                 sampler=sampler.removeprefix("optuna "), batch=batch)
                study = optuna_tpe(work, plan) if sampler == "optuna tpe" else create_study(work, plan)
                run_trials(study, work, trials, batch)
                best.append(study.best_value)
            cells.append(f"{sampler} {batch} {statistics.mean(best):.2f} ({min(best):.2f}-{max(best):.2f})")
        print(f"{trials:>4} trials: {'   '.join(cells)}")


def main() -> None:
    global TRIALS  # noqa: PLW0603 - a bench-wide setting, read by every study
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=TRIALS, help="trials per study (default %(default)s)")
    parser.add_argument("--quality", action="store_true", help="compare the samplers' best scores instead")
    parser.add_argument("--seeds", type=int, default=10, help="--quality: seeds a cell (default %(default)s)")
    args = parser.parse_args()
    if args.quality:
        quality(args.seeds)
        return
    TRIALS = args.trials
    print(f"breakout 1h, one-year train window, {TRIALS} trials per study, {os.cpu_count()} CPUs; "
          f"ratios: against {BASELINE_ONE_WORKER:.0f} trials/s (issue 22) and against one-by-one in this run")
    print(f"{'study':<44} {'evaluation':<26} {'trials/s':>9} {'vs 30':>7} {'vs 1-by-1':>9} "
          f"{'CPU ms/trial':>12}")
    for label, work in studies():
        for sampler in SAMPLERS:  # imports (QMC's scipy.stats.qmc alone takes ~0.5 s), numba
            warm = StudyPlan(f"{label}-warm-{sampler}", None, 3, sampler=sampler)
            run_trials(create_study(work, warm), work, 3)
        wall, cpu = one_by_one(work, f"{label}-one")
        base = TRIALS / wall
        rows = [("one by one, optuna tpe", base, cpu)]
        for sampler, batch in (("tpe", 1), *((name, DEFAULT_BATCH) for name in SAMPLERS)):
            wall, cpu = batched(work, f"{label}-{sampler}-{batch}", sampler, batch)
            default = " DEFAULT" if (sampler, batch) == ("tpe", default_batch(1)) else ""
            rows.append((f"batch {batch}, {sampler}{default}", TRIALS / wall, cpu))
        for how, rate, cpu in rows:
            print(f"{label:<44} {how:<26} {rate:>9.1f} {rate / BASELINE_ONE_WORKER:>6.1f}x "
                  f"{rate / base:>8.2f}x {1000 * cpu / TRIALS:>12.2f}")
    jobs, startup, seconds = pool_row(task())
    print(f"{jobs} worker processes, journal storage, BTC+ETH, tpe, batch {default_batch(jobs)}: "
          f"{TRIALS / seconds:.1f} "
          f"trials/s (pool start-up {startup:.1f} s, paid once per `tradebot optimise` run)")


if __name__ == "__main__":
    main()
