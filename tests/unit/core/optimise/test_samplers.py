"""Sampler choice and ask/tell batches: validated names, reproducible studies for a seed, exactly
the asked number of trials, and no trial left running when an evaluation fails."""

from __future__ import annotations

from dataclasses import replace

import optuna
import pytest
from optuna.trial import TrialState

from trader.cli import build_parser
from trader.cli.backtest_cmd import SAMPLE_DIR, load_candles
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.ids import Symbol
from trader.core.errors import DataError, InputError
from trader.core.optimise.folds import Window
from trader.core.optimise.objectives import Objective
from trader.core.optimise.space import IntRange
from trader.core.optimise.study import DEFAULT_BATCH, SAMPLERS, default_batch
from trader.core.optimise.study.search import SearchTask, TrialObjective
from trader.core.optimise.study.tpe import BatchTPESampler
from trader.core.optimise.study.workers import (
    StudyPlan,
    batch_size,
    create_study,
    run_trials,
    sampler,
    startup_trials,
)

BTC = Symbol("BTC/USDT")


@pytest.fixture(scope="module")
def task() -> SearchTask:
    frame = load_candles(SAMPLE_DIR, BTC, "1h", None, None)
    space = (IntRange("lookback", 10, 60), IntRange("ema_fast", 5, 30))
    window = Window(int(frame.timestamp[3000]), int(frame.timestamp[5000]))
    return SearchTask("breakout", {}, space, {BTC: frame}, BacktestSettings("breakout", "1h"),
                      Objective(min_trades=0), window)


@pytest.mark.parametrize("bad", [{"sampler": "cmaes"}, {"sampler": ""}, {"batch": 0}])
def test_an_unknown_sampler_or_an_empty_batch_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(InputError):
        StudyPlan("s", None, 10, **bad)  # type: ignore[arg-type]


def test_the_command_line_offers_exactly_the_samplers(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser(["trader.cli.optimise_cmd"])
    for name in SAMPLERS:
        assert parser.parse_args(["optimise", "--strategy", "breakout", "--sampler", name]).sampler == name
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(["optimise", "--strategy", "breakout", "--sampler", "grid"])
    assert exit_.value.code == 2
    assert "invalid choice: 'grid'" in capsys.readouterr().err
    assert parser.parse_args(["optimise", "--strategy", "breakout"]).sampler == "tpe"


def test_the_default_batch_is_eight_alone_and_one_with_other_workers() -> None:
    parser = build_parser(["trader.cli.optimise_cmd"])
    assert parser.parse_args(["optimise", "--strategy", "breakout", "--batch", "3"]).batch == 3
    assert parser.parse_args(["optimise", "--strategy", "breakout"]).batch is None  # default_batch(jobs)
    assert (default_batch(1), default_batch(2), default_batch(16)) == (DEFAULT_BATCH, 1, 1) == (8, 1, 1)


@pytest.mark.parametrize(("name", "kind"), [("tpe", optuna.samplers.TPESampler),
                                            ("random", optuna.samplers.RandomSampler),
                                            ("qmc", optuna.samplers.QMCSampler)])
def test_each_name_builds_its_sampler(name: str, kind: type) -> None:
    assert isinstance(sampler(StudyPlan("s", None, 10, sampler=name), 0), kind)


def test_a_lone_worker_gets_the_batch_tpe_and_several_workers_optunas() -> None:
    alone = sampler(StudyPlan("s", None, 10, batch=6), 0)
    assert isinstance(alone, BatchTPESampler) and alone.block == 6
    for plan in (StudyPlan("s", "journal:x", 10, jobs=2), StudyPlan("s", "journal:x", 10, shared=True)):
        assert type(sampler(plan, 0)) is optuna.samplers.TPESampler


def test_tpe_batches_fill_the_start_up_then_grow_from_one() -> None:
    sizes, done = [], 0
    while done < 40:
        sizes.append(batch_size(8, done, 10))
        done += sizes[-1]
    assert sizes == [8, 2, 1, 1, 1, 1, 2, 2, 3, 3, 4, 5, 6, 8]  # start-up: 10 trials; then +1 per 4
    assert batch_size(8, 500, 10) == 8
    assert batch_size(1, 0, 10) == 1 and batch_size(3, 200, 10) == 3


def test_a_batch_is_sampled_before_any_of_it_is_told(task: SearchTask) -> None:
    plan = StudyPlan("s", None, 40, seed=1, batch=8)
    study = create_study(task, plan)
    run_trials(study, task, plan.trials, plan.batch)
    assert isinstance(study.sampler, BatchTPESampler)
    after_start_up, done = 0, startup_trials(40)
    while done < 40:
        after_start_up += 1
        done += batch_size(8, done, startup_trials(40))
    # one model per batch after the random start-up (one per trial if a batch's parameters were
    # drawn as each trial runs, after the previous one was told)
    assert study.sampler.fits == after_start_up < 40 - startup_trials(40)


def _study(task: SearchTask, plan: StudyPlan) -> list[tuple[dict[str, object], float | None]]:
    study = create_study(task, plan)
    run_trials(study, task, plan.trials, plan.batch)
    return [(t.params, t.value) for t in study.get_trials(deepcopy=False)]


@pytest.mark.parametrize("name", SAMPLERS)
@pytest.mark.parametrize("batch", [1, 4])
def test_a_seeded_study_is_reproducible_and_runs_exactly_its_trials(task: SearchTask, name: str,
                                                                    batch: int) -> None:
    plan = StudyPlan("s", None, 14, seed=3, sampler=name, batch=batch)
    first = _study(task, plan)
    assert len(first) == 14
    assert first == _study(task, plan)
    assert first != _study(task, replace(plan, seed=4))


def test_a_failing_evaluation_stops_the_run_and_leaves_no_trial_running(task: SearchTask) -> None:
    last = int(task.candles[BTC].timestamp[-1])
    broken = replace(task, window=Window(last + 10**9, last + 10**10))  # no candles: a DataError
    study = create_study(broken, StudyPlan("s", None, 8, sampler="random", batch=4))
    with pytest.raises(DataError, match="no candles"):
        run_trials(study, broken, 8, 4)
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert states == [TrialState.FAIL] * 4


def test_scoring_the_drawn_parameters_gives_the_study_suggesting_them_again(
        task: SearchTask, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = StudyPlan("s", None, 16, seed=5, batch=4)

    def trials() -> list[tuple[dict[str, object], float | None, dict[str, object]]]:
        study = create_study(task, plan)
        run_trials(study, task, plan.trials, plan.batch)
        return [(t.params, t.value, t.user_attrs) for t in study.get_trials(deepcopy=False)]

    drawn = trials()
    # each trial scored through __call__, which suggests its parameters again (as before)
    monkeypatch.setattr(TrialObjective, "drawn", lambda self, trial, _searched: self(trial))
    assert drawn == trials()
