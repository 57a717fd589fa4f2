"""BatchTPESampler: one model per set of finished trials, the same picks as a model fitted afresh at
the batch's asks, Optuna's plain TPE when its private helpers are missing, and a search that beats
random sampling on a known function."""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np
import optuna
import pytest
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers import TPESampler
from optuna.samplers._tpe import sampler as _tpe
from optuna.trial import FrozenTrial, TrialState

from trader.core.optimise.study import tpe
from trader.core.optimise.study.tpe import BatchTPESampler
from trader.core.optimise.study.tpe_tables import tables

SPACE: dict[str, BaseDistribution] = {
    "lookback": IntDistribution(10, 200),
    "fast": IntDistribution(2, 60, step=2),
    "reward_risk": FloatDistribution(1.0, 5.0, step=0.25),
    "mode": CategoricalDistribution(("level", "atr", "close")),
}
CONTINUOUS: dict[str, BaseDistribution] = {"x": FloatDistribution(-3.0, 3.0), "n": IntDistribution(0, 9)}


def score(params: dict[str, object]) -> float:
    """A known function: one narrow peak (lookback 137, fast 24, reward_risk 3.25, mode atr)."""
    bonus = {"level": 0.0, "atr": 1.0, "close": 0.3}[str(params["mode"])]
    return -(abs(float(params["lookback"]) - 137) / 20 + abs(float(params["fast"]) - 24) / 8  # type: ignore[arg-type]
             + abs(float(params["reward_risk"]) - 3.25)) + bonus  # type: ignore[arg-type]


def _study(sampler: optuna.samplers.BaseSampler) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(direction="maximize", sampler=sampler)


def _run(study: optuna.Study, trials: int, batch: int,
         space: dict[str, BaseDistribution] = SPACE) -> list[dict[str, object]]:
    """Ask ``batch`` trials (all parameters drawn before any is told), tell, until ``trials``."""
    while len(study.trials) < trials:
        asked = [study.ask(space) for _ in range(min(batch, trials - len(study.trials)))]
        for trial in asked:
            study.tell(trial, score(trial.params) if space is SPACE else -float(trial.params["x"]) ** 2)
    return [t.params for t in study.trials]


def _fresh_picks(study: optuna.Study, state: dict[str, Any], block: int) -> list[dict[str, object]]:
    """Return what a model fitted afresh on ``study``'s finished trials picks for ``block`` asks,
    drawing from a generator in ``state``: each ask's best acquisition among its own 24 candidates."""
    space = dict(sorted(SPACE.items()))  # Optuna's relative search space is sorted by name
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    below_trials, above_trials = _tpe._split_trials(study, done, _tpe.default_gamma(len(done)))
    fresh = TPESampler(seed=0)
    below = tables(fresh._build_parzen_estimator(study, space, below_trials, handle_below=True), space)
    above = tables(fresh._build_parzen_estimator(study, space, above_trials, handle_below=False), space)
    assert below is not None and above is not None
    rng = np.random.RandomState()
    rng.set_state(state)
    indices = below.sample(rng, 24 * block)
    gain = (below.log_pdf(indices) - above.log_pdf(indices)).reshape(block, 24)
    rows = indices[gain.argmax(axis=1) + 24 * np.arange(block)]
    return [{name: d.to_external_repr(v[i]) for i, (name, d) in enumerate(space.items())}
            for v in below.values(rows)]


@pytest.mark.parametrize("block", [1, 4, 8])
def test_a_batch_fits_one_model_and_picks_what_a_fresh_fit_picks(block: int) -> None:
    sampler = BatchTPESampler(block=block, seed=11, n_startup_trials=5)
    study = _study(sampler)
    _run(study, 5 + 3 * block, block)  # start-up trials, then three batches
    fits = sampler.fits
    state = sampler._rng.rng.get_state(legacy=False)
    asked = [study.ask(SPACE) for _ in range(block)]  # nothing finishes between these asks
    assert sampler.fits == fits + 1
    assert [t.params for t in asked] == _fresh_picks(study, state, block)
    study.tell(asked[0], score(asked[0].params))
    study.ask(SPACE)  # a trial finished: the model is fitted again
    assert sampler.fits == fits + 2


def test_a_batch_of_the_block_size_fits_once_and_is_reproducible() -> None:
    first = BatchTPESampler(block=8, seed=3, n_startup_trials=10)
    params = _run(_study(first), 58, 8)
    assert first.fits == 6  # trials 10-57: six batches of eight, one model each
    assert params == _run(_study(BatchTPESampler(block=8, seed=3, n_startup_trials=10)), 58, 8)
    assert params != _run(_study(BatchTPESampler(block=8, seed=4, n_startup_trials=10)), 58, 8)


def test_a_space_without_tables_samples_with_optunas_estimators() -> None:
    sampler = BatchTPESampler(block=4, seed=2, n_startup_trials=4)
    params = _run(_study(sampler), 24, 4, CONTINUOUS)
    assert sampler.fits == 5 and len({p["x"] for p in params}) == 24
    assert params == _run(_study(BatchTPESampler(block=4, seed=2, n_startup_trials=4)), 24, 4, CONTINUOUS)


def test_without_optunas_private_helpers_it_is_optunas_tpe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tpe, "PRIVATE_API", False)
    ours = _run(_study(BatchTPESampler(block=4, seed=5, n_startup_trials=5)), 30, 4)
    plain = _run(_study(TPESampler(seed=5, n_startup_trials=5, constant_liar=False)), 30, 4)
    assert ours == plain


def test_batched_tpe_beats_random_sampling_on_a_known_function() -> None:
    """Mean best score over seeds after 64 trials: batches of 8 well above random, and not below
    Optuna's TPE told after every trial by more than the spread between seeds."""
    def best(make: type[optuna.samplers.BaseSampler] | None, batch: int, seed: int) -> float:
        sampler = (BatchTPESampler(block=batch, seed=seed, n_startup_trials=10) if make is None
                   else make(seed=seed) if make is optuna.samplers.RandomSampler
                   else TPESampler(seed=seed, n_startup_trials=10))
        study = _study(sampler)
        _run(study, 64, batch)
        return float(study.best_value)

    seeds = range(6)
    batched = statistics.mean(best(None, 8, s) for s in seeds)
    random = statistics.mean(best(optuna.samplers.RandomSampler, 8, s) for s in seeds)
    plain = statistics.mean(best(TPESampler, 1, s) for s in seeds)
    assert batched > random + 0.5, (batched, random, plain)
    assert batched > plain - 0.3, (batched, random, plain)


def test_the_search_space_is_inferred_once_per_finished_set(monkeypatch: pytest.MonkeyPatch) -> None:
    sampler = BatchTPESampler(block=4, seed=0, n_startup_trials=3)
    study = _study(sampler)
    _run(study, 8, 4)
    calls: list[int] = []
    infer = TPESampler.infer_relative_search_space

    def counted(self: TPESampler, s: optuna.Study, t: FrozenTrial) -> dict[str, BaseDistribution]:
        calls.append(t.number)
        return infer(self, s, t)

    monkeypatch.setattr(TPESampler, "infer_relative_search_space", counted)
    asked = [study.ask() for _ in range(3)]
    frozen = [study._storage.get_trial(t._trial_id) for t in asked]
    spaces = [sampler.infer_relative_search_space(study, t) for t in frozen]
    assert calls == [8]  # the first ask inferred it; the other asks and these calls reused it
    assert spaces[0] == spaces[2] == infer(TPESampler(), study, frozen[0]) == dict(sorted(SPACE.items()))
    study.tell(asked[0], 1.0)
    sampler.infer_relative_search_space(study, frozen[1])
    assert calls == [8, 9]  # a trial finished: inferred again
