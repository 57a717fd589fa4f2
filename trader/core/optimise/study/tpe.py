"""TPE for ask/tell batches: one model per set of finished trials, one draw of candidates per batch.

Optuna's ``TPESampler`` refits its Parzen estimators (good and bad trials) at every ask and draws 24
candidates for it: 2-4 ms a trial, about what a compiled backtest costs. Within a batch no trial
finishes between asks, so every ask would fit the same model. ``BatchTPESampler`` fits it once per
set of finished trials and draws the candidates of ``block`` asks in one vectorised call; each ask
takes the best of its own 24 (the acquisition ``log l(x) - log g(x)`` of the same model). On a
discrete space the draws and densities come from ``tpe_tables`` (the same distribution as Optuna's
estimators, far fewer Python calls), otherwise from Optuna's estimators themselves.

It uses the sampler's private helpers (optuna is pinned in constraints.txt); if a release moves them,
``PRIVATE_API`` is False and the sampler behaves as a plain ``TPESampler``. Running trials are not
counted (no constant liar): the cache is sound only when this worker alone changes the study's trial
set, so ``workers.sampler`` uses it for a lone, unshared worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import TPESampler
from optuna.samplers._tpe import sampler as _tpe
from optuna.trial import FrozenTrial, TrialState

from trader.core.optimise.study.tpe_tables import ParzenTables, tables

_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
PRIVATE_API = (all(hasattr(TPESampler, name) for name in (
    "_sample", "_build_parzen_estimator", "_compute_acquisition_func"))
    and hasattr(_tpe, "_split_trials") and hasattr(_tpe, "default_gamma"))


def _finished_key(study: optuna.Study, finished: list[FrozenTrial]) -> tuple[object, ...]:
    """Return what names ``study``'s set of finished trials: they are never removed or changed, so
    their count does, within one study (its storage object: in-memory studies all have id 0)."""
    return study._storage, study._study_id, len(finished)


@dataclass(slots=True)
class _Model:
    """The fitted estimators of one set of finished trials and the candidates drawn from them."""

    key: tuple[object, ...]
    below: Any  # _ParzenEstimator of the good trials
    above: Any  # _ParzenEstimator of the others
    tables: tuple[ParzenTables, ParzenTables] | None  # the same two as tables (discrete space)
    picks: list[dict[str, float]] = field(default_factory=list)  # internal values, next first
    used: int = 0


class BatchTPESampler(TPESampler):
    """``TPESampler`` whose model is fitted once per set of finished trials and whose candidates are
    drawn ``block`` asks at a time."""

    def __init__(self, *, block: int, seed: int | None = None, n_startup_trials: int = 10) -> None:
        super().__init__(seed=seed, n_startup_trials=n_startup_trials, constant_liar=False)
        self.block = max(1, block)
        self._model: _Model | None = None
        self._space: tuple[tuple[object, ...], dict[str, BaseDistribution]] | None = None
        self.fits = 0  # models fitted: one per set of finished trials

    def infer_relative_search_space(self, study: optuna.Study,
                                    trial: FrozenTrial) -> dict[str, BaseDistribution]:
        """Return TPESampler's search space, inferred once per set of finished trials (it is their
        parameters' intersection; Optuna recomputes it and deep-copies it at every ask)."""
        if not PRIVATE_API:
            return super().infer_relative_search_space(study, trial)
        key = _finished_key(study, study._get_trials(deepcopy=False, states=_FINISHED, use_cache=True))
        if self._space is None or self._space[0] != key:
            self._space = key, super().infer_relative_search_space(study, trial)
        return dict(self._space[1])

    def _sample(self, study: optuna.Study, trial: FrozenTrial,
                search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        if not PRIVATE_API or study._is_multi_objective():  # the split below is single-objective
            return super()._sample(study, trial, search_space)
        trials = study._get_trials(deepcopy=False, states=_FINISHED, use_cache=True)
        key = (*_finished_key(study, trials), tuple(search_space.items()))
        model = self._model
        if model is None or model.key != key:
            model = self._model = self._fit(study, trials, search_space, key)
        if model.used == len(model.picks):
            model.picks, model.used = self._draw(model, search_space), 0
        picked = model.picks[model.used]
        model.used += 1
        return {name: dist.to_external_repr(picked[name]) for name, dist in search_space.items()}

    def _fit(self, study: optuna.Study, trials: list[FrozenTrial],
             search_space: dict[str, BaseDistribution], key: tuple[object, ...]) -> _Model:
        """Return the model of ``trials``: TPESampler._sample's split and estimators, no draws yet."""
        if self._gamma is None:
            self._gamma = _tpe.default_gamma
        below_trials, above_trials = _tpe._split_trials(study, trials, self._gamma(len(trials)))
        below = self._build_parzen_estimator(study, search_space, below_trials, handle_below=True)
        above = self._build_parzen_estimator(study, search_space, above_trials, handle_below=False)
        below_tables, above_tables = tables(below, search_space), tables(above, search_space)
        both = None if below_tables is None or above_tables is None else (below_tables, above_tables)
        self.fits += 1
        return _Model(key, below, above, both)

    def _draw(self, model: _Model, search_space: dict[str, BaseDistribution]) -> list[dict[str, float]]:
        """Return the internal values picked for the next ``block`` asks: each the acquisition's
        (``log l(x) - log g(x)``) argmax over its own ``n_ei_candidates`` rows of one draw."""
        n, names = self._n_ei_candidates, list(search_space)
        if model.tables is not None:
            below, above = model.tables
            indices = below.sample(self._rng.rng, n * self.block)
            acquisition = below.log_pdf(indices) - above.log_pdf(indices)
            best = acquisition.reshape(self.block, n).argmax(axis=1) + np.arange(self.block) * n
            return [{names[i]: v for i, v in row.items()} for row in below.values(indices[best])]
        samples = model.below.sample(self._rng.rng, n * self.block)
        acquisition = np.asarray(self._compute_acquisition_func(samples, model.below, model.above))
        best = acquisition.reshape(self.block, n).argmax(axis=1) + np.arange(self.block) * n
        return [{name: float(samples[name][i]) for name in names} for i in best]
