"""Two worker processes share one Optuna study in the real PostgreSQL (as workers on several
machines would), both contribute trials, and the study's best is consistent with its trials, with
what the CLI printed, and with a fresh re-evaluation of the best parameters."""

from __future__ import annotations

import re
from decimal import Decimal

import optuna
import pytest
from optuna.trial import TrialState

from trader.cli import main
from trader.cli.backtest_cmd import SAMPLE_DIR, load_candles
from trader.cli.optimise_cmd import optuna_url
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.ids import Symbol
from trader.core.optimise.folds import Window
from trader.core.optimise.objectives import Objective
from trader.core.optimise.study.search import WORKER, SearchTask
from trader.core.sim.costs import FeeModel

pytestmark = pytest.mark.postgres
STUDY = "pg-shared"
ARGS = ["optimize", "--strategy", "bollinger_reversion", "--pairs", "BTC/USDT", "--timeframe", "1h",
        "--from", "2023-01-01", "--to", "2024-01-01", "--search", "bb_period=10:40",
        "--search", "bb_std=1.5:3.0:0.1", "--min-trades", "3", "--trials", "12", "--jobs", "2",
        "--study-name", STUDY]


def test_two_workers_share_one_postgres_study(pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    storage = optuna_url(pg_url)
    assert storage.startswith("postgresql+psycopg2://")
    code = main([*ARGS, "--storage", pg_url])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"study {STUDY} in postgresql+psycopg2://127.0.0.1" in out

    study = optuna.load_study(study_name=STUDY, storage=storage)
    finished = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert 12 <= len(finished) <= 13  # two workers may overshoot the target by one
    workers = {t.user_attrs[WORKER] for t in finished}
    assert len(workers) == 2, workers  # both processes ran trials
    complete = [t for t in finished if t.state is TrialState.COMPLETE]
    assert study.best_value == max(t.value for t in complete if t.value is not None)
    best = study.best_params
    printed = re.search(r"latest fold's parameters: (.*)", out).group(1)  # type: ignore[union-attr]
    assert printed == f"--param bb_period={best['bb_period']} --param bb_std={best['bb_std']:.6g}"

    # A fresh process-independent evaluation of the stored best reproduces the stored value.
    btc = Symbol("BTC/USDT")
    train = study.best_trial
    task = SearchTask("bollinger_reversion", {}, (), {btc: load_candles(SAMPLE_DIR, btc, "1h", None, None)},
                      BacktestSettings("bollinger_reversion", "1h", fees=FeeModel.flat(Decimal("0.001"))),
                      Objective(min_trades=3), Window(0, 0))
    window = _train_window(out)
    assert task.score(best, window).value == pytest.approx(train.value, rel=1e-12)

    # Running the same command again (another machine joining late) finds the study complete.
    code = main([*ARGS, "--storage", pg_url])
    again = capsys.readouterr().out
    assert code == 0
    assert len(optuna.load_study(study_name=STUDY, storage=storage).trials) == len(study.trials)
    assert re.search(r"latest fold's parameters: (.*)", again).group(1) == printed  # type: ignore[union-attr]


def _train_window(out: str) -> Window:
    from datetime import UTC, datetime

    from trader.core.domain.candles import datetime_to_ms

    start, end = re.search(r"^1\s+(\S+ \S+) → (\S+ \S+)", out, re.M).groups()  # type: ignore[union-attr]
    ms = [datetime_to_ms(datetime.strptime(t, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)) for t in (start, end)]
    return Window(ms[0], ms[1])
