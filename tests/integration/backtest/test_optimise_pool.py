"""The worker pool: processes spawned once serve several studies; a failing worker stops the run
with its traceback instead of hanging."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import optuna
import pytest

from trader.cli.backtest_cmd import SAMPLE_DIR, load_candles
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.ids import Symbol
from trader.core.errors import TraderError
from trader.core.optimise.folds import Window
from trader.core.optimise.objectives import Objective
from trader.core.optimise.space import IntRange
from trader.core.optimise.study.pool import WorkerPool
from trader.core.optimise.study.search import WORKER, SearchTask
from trader.core.optimise.study.workers import StudyPlan, create_study, shared_storage

BTC = Symbol("BTC/USDT")


def task(**changes: object) -> SearchTask:
    candles = {BTC: load_candles(SAMPLE_DIR, BTC, "1h", None, None)}
    ts = candles[BTC].timestamp
    base = SearchTask("bollinger_reversion", {}, (IntRange("bb_period", 10, 40),), candles,
                      BacktestSettings("bollinger_reversion", "1h"), Objective(min_trades=1),
                      Window(int(ts[2000]), int(ts[6000])))
    return replace(base, **changes)  # type: ignore[arg-type]


def test_one_pool_serves_several_studies_with_every_worker(tmp_path: Path) -> None:
    work = task()
    with WorkerPool(2) as pool:
        for name in ("first", "second"):
            plan = StudyPlan(name, f"journal:{tmp_path / name}.log", 8, jobs=2)
            create_study(work, plan)
            pool.run(work, plan)
            study = optuna.load_study(study_name=name, storage=shared_storage(plan.storage or ""))
            assert 8 <= len(study.trials) <= 9
            assert len({t.user_attrs[WORKER] for t in study.trials}) == 2


def test_a_failing_worker_stops_the_run_with_its_traceback(tmp_path: Path) -> None:
    broken = task(window=Window(0, 3_600_000 * 10))  # no candles there: run_backtest raises DataError
    plan = StudyPlan("broken", f"journal:{tmp_path / 'b'}.log", 4, jobs=2)
    create_study(broken, plan)
    failure = r"optimisation worker \d failed:(.|\n)*DataError"
    with pytest.raises(TraderError, match=failure), WorkerPool(2) as pool:
        pool.run(broken, plan)
