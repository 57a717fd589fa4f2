"""The tables of a Parzen estimator are the same distribution as Optuna's estimator: the same log
density on every point of a discrete space, and draws that follow it."""

from __future__ import annotations

import itertools

import numpy as np
import optuna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers import TPESampler
from optuna.samplers._tpe import _erf
from optuna.samplers._tpe import sampler as _tpe

from trader.core.optimise.study import tpe_tables
from trader.core.optimise.study.tpe_tables import MAX_GRID, ParzenTables, grid, tables

SPACE: dict[str, BaseDistribution] = {
    "lookback": IntDistribution(10, 60),
    "reward_risk": FloatDistribution(1.0, 4.0, step=0.5),
    "mode": CategoricalDistribution(("level", "atr", "close")),
    "ema": IntDistribution(5, 30, step=5),
}


def _estimators(trials: int, seed: int = 0) -> tuple[object, object]:
    """Return Optuna's (below, above) estimators fitted on ``trials`` random trials of SPACE."""
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=seed))
    rng = np.random.default_rng(seed)
    for _ in range(trials):
        trial = study.ask(SPACE)
        study.tell(trial, float(rng.normal() - abs(trial.params["lookback"] - 37) / 10))
    done = study.get_trials(deepcopy=False)
    below, above = _tpe._split_trials(study, done, _tpe.default_gamma(len(done)))
    sampler = TPESampler(seed=seed)
    return (sampler._build_parzen_estimator(study, SPACE, below, handle_below=True),
            sampler._build_parzen_estimator(study, SPACE, above, handle_below=False))


def _every_point() -> np.ndarray:
    """Return every point of SPACE as grid indices (rows)."""
    sizes = [len(grid(d)) for d in SPACE.values()]  # type: ignore[arg-type]
    return np.array(list(itertools.product(*(range(n) for n in sizes))), dtype=np.int64)


def _internal(table: ParzenTables, indices: np.ndarray) -> dict[str, np.ndarray]:
    return {name: table.grids[i][indices[:, i]] for i, name in enumerate(SPACE)}


def test_the_grid_of_each_kind_of_parameter() -> None:
    assert grid(IntDistribution(3, 7, step=2)).tolist() == [3.0, 5.0, 7.0]  # type: ignore[union-attr]
    assert grid(FloatDistribution(1.0, 2.0, step=0.25)).tolist() == [1.0, 1.25, 1.5, 1.75, 2.0]  # type: ignore[union-attr]
    assert grid(CategoricalDistribution(("a", "b"))).tolist() == [0.0, 1.0]  # type: ignore[union-attr]
    assert grid(FloatDistribution(1.0, 2.0)) is None
    assert grid(IntDistribution(1, 100, log=True)) is None
    assert len(grid(IntDistribution(1, MAX_GRID))) == MAX_GRID  # type: ignore[arg-type]
    assert grid(IntDistribution(0, MAX_GRID)) is None  # one value too many: Optuna's own sampling


@settings(max_examples=15, deadline=None)
@given(st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=1000))
def test_the_tables_give_optunas_log_density_on_every_point(trials: int, seed: int) -> None:
    points = _every_point()
    for estimator in _estimators(trials, seed):
        table = tables(estimator, SPACE)
        assert table is not None
        ours = table.log_pdf(points)
        theirs = estimator.log_pdf(_internal(table, points))  # type: ignore[attr-defined]
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)
        assert np.exp(ours).sum() == pytest.approx(1.0, abs=1e-9)


def test_draws_follow_the_density() -> None:
    below, _ = _estimators(30)
    table = tables(below, SPACE)
    assert table is not None
    draws = table.sample(np.random.RandomState(5), 40_000)
    assert np.array_equal(draws, table.sample(np.random.RandomState(5), 40_000))  # seeded
    points = _every_point()
    density = np.exp(table.log_pdf(points))
    for i, size in enumerate(len(g) for g in table.grids):
        expected = np.bincount(points[:, i], weights=density, minlength=size)
        seen = np.bincount(draws[:, i], minlength=size) / len(draws)
        assert np.abs(seen - expected).max() < 0.01, (list(SPACE)[i], seen, expected)


def test_a_continuous_parameter_has_no_table() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    space: dict[str, BaseDistribution] = {"x": FloatDistribution(0.0, 1.0), "n": IntDistribution(1, 5)}
    for _ in range(5):
        study.tell(study.ask(space), 1.0)
    estimator = TPESampler(seed=0)._build_parzen_estimator(study, space, study.trials, handle_below=True)
    assert tables(estimator, space) is None
    assert tables(object(), SPACE) is None  # not an estimator layout this module knows


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.floats(-8, 8), st.floats(allow_nan=True, allow_infinity=True),
                          st.floats(-1e-6, 1e-6)), min_size=1, max_size=60),
       st.booleans())
def test_the_tables_erf_is_optunas_bit_for_bit(values: list[float], rows: bool) -> None:
    x = np.array(values).reshape(1, -1) if rows else np.array(values)  # kernels x edges, or flat
    assert tpe_tables.erf is not None
    got, expected = tpe_tables.erf(x), _erf.erf(x)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    assert got.tobytes() == expected.tobytes()


@pytest.mark.parametrize("size", [tpe_tables.OPTUNA_PER_VALUE_BELOW - 1, tpe_tables.OPTUNA_PER_VALUE_BELOW])
def test_the_tables_erf_is_optunas_on_either_side_of_its_per_value_size(size: int) -> None:
    x = np.random.default_rng(size).normal(0, 3, size)
    assert tpe_tables.erf is not None
    assert tpe_tables.erf(x).tobytes() == _erf.erf(x).tobytes()
