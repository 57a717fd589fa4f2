"""`tradebot optimise`: search a strategy's declared parameter ranges with Optuna (TPE, pruning) and
report train and out-of-sample test objectives side by side, per walk-forward fold.

This is the I/O edge of the optimiser: it loads candles, decides the Optuna storage (in memory for
one worker, a temporary journal file for local worker processes, or the --storage URL, where a
PostgreSQL URL lets workers on several machines share the study) and prints the table.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from trader.cli.optimise_args import (
    add_data_args,
    assignments,
    fraction,
    load_pair_candles,
    positive_int,
    search_items,
)
from trader.core.domain.candles import datetime_to_ms, timeframe_ms
from trader.core.domain.ids import Symbol, split_symbol
from trader.core.errors import ArgError
from trader.core.strategies.pair_setup import PAIRS_NAME

USAGE = ("tradebot optimise --strategy NAME [--pairs BTC/USDT] [--timeframe 1h] [--from DAY] [--to DAY] "
         "[--search NAME[=LOW:HIGH[:STEP]|=A,B] ...] [--param NAME=VALUE ...] [--objective sharpe] "
         "[--trials 50] [--folds 1] [--test-fraction 0.3] [--anchored] [--segments 1] [--jobs N] "
         "[--seed 0] [--sampler tpe|random|qmc] [--batch N] [--storage URL] [--study-name NAME]")
_OPTIMISE = "optimisation"


def register(sub: Any) -> None:
    """Add the `optimise` command (`optimize` is an alias)."""
    from trader.core.optimise.objectives import ObjectiveName
    from trader.core.optimise.study import DEFAULT_BATCH, SAMPLERS

    p: argparse.ArgumentParser = sub.add_parser(
        "optimise", aliases=["optimize"], help="search strategy parameters with walk-forward validation",
        usage=USAGE)
    add_data_args(p)
    p.add_argument("--search", action="append", default=[], metavar="NAME[=RANGE]",
                   help="parameter to search (repeatable; default: every declared range); "
                        "narrow with NAME=LOW:HIGH[:STEP] or NAME=A,B for choices")
    p.add_argument("--objective", choices=[o.value for o in ObjectiveName], default="sharpe")
    p.add_argument("--max-drawdown", type=fraction, default=0.25, help="profit_dd: drawdown cap (fraction)")
    p.add_argument("--min-trades", type=int, default=5, help="fewer trades on a window is infeasible")
    p.add_argument("--trials", type=positive_int, default=50, help="finished trials per fold (study total)")
    p.add_argument("--folds", type=positive_int, default=1,
                   help="walk-forward folds (1: one train/test split)")
    p.add_argument("--test-fraction", type=fraction, default=0.3, help="share of each fold's window tested")
    p.add_argument("--anchored", action="store_true", help="train every fold from the period start")
    p.add_argument("--segments", type=positive_int, default=1,
                   help="score the train window as the mean of N segments; enables median pruning")
    p.add_argument("--jobs", type=positive_int, default=os.cpu_count() or 1, help="worker processes")
    p.add_argument("--seed", type=int, default=0, help="sampler seed (reproducible with --jobs 1)")
    p.add_argument("--sampler", choices=SAMPLERS, default="tpe",
                   help="tpe (default: learns from the scores), random or qmc (even cover; far cheaper "
                        "per trial, no learning)")
    p.add_argument("--batch", type=positive_int,
                   help=f"trials each worker asks and evaluates together (default {DEFAULT_BATCH} with "
                        "--jobs 1, else 1; TPE fits one model per batch, its batches growing to this from 1 "
                        "after the random start-up; 1: a model after every trial, slower)")
    p.add_argument("--storage", metavar="URL", help="Optuna RDB storage, e.g. postgresql://user@host/db")
    p.add_argument("--study-name", help="study name (default: derived from the command, so a re-run resumes)")
    p.add_argument("--balance", type=Decimal, help="start balance in the quote currency")
    p.add_argument("--fee", type=Decimal, help="fee per side as a fraction")
    p.add_argument("--slippage", type=Decimal, help="slippage on taker fills as a fraction")
    p.set_defaults(func=_run)


def optuna_url(url: str) -> str:
    """Return ``url`` with a synchronous driver (Optuna's RDB storage uses synchronous SQLAlchemy)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ArgError(f"--storage {url!r} is not a database URL", USAGE)
    base = scheme.split("+")[0]
    if base in ("postgresql", "postgres"):
        return f"postgresql+psycopg2://{rest}"
    if base == "sqlite":
        return f"sqlite://{rest}"
    return url


def _run(args: argparse.Namespace) -> int:
    from trader.config import load_settings
    from trader.core.optimise.candidate import build, name_of, params_spec
    from trader.core.optimise.folds import Window, walk_forward
    from trader.core.optimise.objectives import Objective, ObjectiveName
    from trader.core.optimise.report import fold_table, format_params, summary
    from trader.core.optimise.space import search_space, size
    from trader.core.optimise.study.search import SearchTask
    from trader.core.optimise.study.walk import walk_forward as run_folds

    settings = load_settings(args.config)
    fixed: dict[str, Any] = assignments(args.param, "--param", USAGE)
    run_settings = None
    if args.strategy == PAIRS_NAME:  # its two legs, configured parameters and leverage (pair_args)
        fixed, run_settings = _pairs(args, settings, fixed)
    tf, candles = load_pair_candles(args, settings, USAGE)
    strategy = build(args.strategy, fixed, list(candles))
    names, overrides = search_items(args.search)
    space = search_space(params_spec(args.strategy), names, overrides)
    step = timeframe_ms(tf)
    first = max(int(f.timestamp[0]) for f in candles.values()) + strategy.required_history * step
    start = first if args.start is None else max(first, datetime_to_ms(args.start))
    end = min(int(f.timestamp[-1]) for f in candles.values()) + step
    objective = Objective(ObjectiveName(args.objective), args.max_drawdown, args.min_trades)
    folds = walk_forward(Window(start, end), args.folds, args.test_fraction, step, anchored=args.anchored)
    run_settings = run_settings or _settings(args, settings, name_of(strategy), tf, list(candles))
    task = SearchTask(name_of(strategy), fixed, space, candles, run_settings, objective, folds[0].train,
                      args.segments)
    print(f"optimise {name_of(strategy)} · {', '.join(candles)} · {tf} · {objective.describe()}")
    print(f"search {len(space)} parameter(s), {_points(size(space))}: "
          f"{', '.join(_dim_text(d) for d in space)}")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tradebot-optuna-") as tmp:
        plan = _plan(args, task, folds, Path(tmp))
        kind = "anchored" if args.anchored else "rolling"
        print(f"{len(folds)} fold(s) ({kind}, test {args.test_fraction:.0%}), {args.trials} trials per "
              f"fold, {plan.jobs} worker process(es), {plan.sampler} sampler, seed {args.seed}, "
              f"study {plan.study_name} in {_where(plan.storage)}")
        outcomes = run_folds(task, folds, plan, progress=lambda line: print(line, file=sys.stderr))
    print()
    print(fold_table(outcomes, objective))
    print()
    print(summary(outcomes, objective))
    latest = outcomes[-1]
    if latest.params:
        flags = " ".join(f"--param {p}" for p in format_params(latest.params).split())
        print(f"latest fold's parameters: {flags}")
    print(f"took {time.monotonic() - began:.1f} s")
    return 0


def _settings(args: argparse.Namespace, settings: Any, name: str, tf: str, pairs: list[Symbol]) -> Any:
    from trader.core.backtest.runner import BacktestSettings
    from trader.core.sim.costs import FeeModel, SlippageModel

    bt = settings.backtest
    return BacktestSettings(
        strategy=name, timeframe=tf, risk=settings.risk, start_balance=args.balance or bt.start_balance,
        quote=split_symbol(pairs[0])[1], fees=FeeModel.flat(args.fee if args.fee is not None else bt.fee),
        slippage=SlippageModel(args.slippage if args.slippage is not None else bt.slippage))


def _pairs(args: argparse.Namespace, settings: Any, fixed: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """Return the pairs strategy's fixed parameters (configured, then --param) and run settings; the
    legs and timeframe are set on ``args`` so the candles loaded are the two legs, y first."""
    from trader.cli.pair_args import pair_run

    entry = next((e for e in settings.strategies if e.name == PAIRS_NAME), None)
    setup, tf, run_settings = pair_run(args, settings, fixed, USAGE)
    args.pairs, args.timeframe = f"{setup.y},{setup.x}", tf
    return {**(entry.params if entry else {}), **fixed}, run_settings


def _plan(args: argparse.Namespace, task: Any, folds: Any, tmp: Path) -> Any:
    from trader.core.optimise.study import default_batch
    from trader.core.optimise.study.workers import StudyPlan

    storage: str | None = None
    if args.storage:
        storage = optuna_url(args.storage)
        if storage.startswith("sqlite") and args.jobs > 1:
            raise ArgError("an SQLite study locks under several worker processes: add --jobs 1, or use a "
                           "PostgreSQL URL (or no --storage: local workers share a journal file)", USAGE)
    elif args.jobs > 1:
        storage = f"journal:{tmp / 'study.log'}"
    name = args.study_name or f"{task.strategy}-{_fingerprint(task, folds)}"
    return StudyPlan(name, storage, args.trials, args.jobs, args.seed, shared=bool(args.storage),
                     sampler=args.sampler, batch=args.batch or default_batch(args.jobs))


def _fingerprint(task: Any, folds: Any) -> str:
    """Return a short hash of what the study searches, so the same command resumes the same study."""
    what = repr((task.strategy, sorted(task.fixed.items()), task.space, sorted(task.candles), task.settings,
                 task.objective, task.parts, folds))
    return hashlib.sha256(what.encode()).hexdigest()[:10]


def _where(storage: str | None) -> str:
    if storage is None:
        return "memory"
    if storage.startswith("journal:"):
        return "a temporary journal file"
    scheme, _, rest = storage.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"  # never print the credentials


def _points(count: float) -> str:
    """Return the size of the search space in words; a continuous range has no finite count."""
    return f"{count:,.0f} points" if math.isfinite(count) else "continuous (no finite count of points)"


def _dim_text(dim: Any) -> str:
    from trader.core.optimise.space import Choice

    if isinstance(dim, Choice):
        return f"{dim.name} {{{', '.join(map(str, dim.choices))}}}"
    step = f" step {dim.step:g}" if dim.step is not None else ""
    return f"{dim.name} {dim.low:g}..{dim.high:g}{step}"

