"""A TPE Parzen estimator over a discrete space as per-parameter probability tables.

Optuna's ``_ParzenEstimator`` is a mixture of products of kernels. On an integer, stepped-float or
categorical parameter each kernel puts on every grid value the normal mass of that value's cell
(``value +- step / 2``) divided by its mass over the whole range; Optuna samples a continuous
truncated normal and rounds it, so it draws the same distribution. Tabulating each kernel's
probabilities once per model makes a draw and a log density plain indexing: Optuna's own ``sample``
and ``log_pdf`` evaluate the normal CDF one Python call per value (Newton steps for its inverse),
about 0.5 ms for 24 candidates. A space with a continuous or log parameter has no table (None).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

_Erf = Callable[[np.ndarray], np.ndarray]
# Optuna's erf takes math.erf of each value of an array below this size (its own approximation beyond)
OPTUNA_PER_VALUE_BELOW = 2000


@numba.vectorize(["float64(float64)"], cache=True)  # type: ignore[no-untyped-call]
def _math_erf(x):  # type: ignore[no-untyped-def]
    # math.erf compiled: both are the C library's erf (the same bits; test_tpe_tables compares them)
    return math.erf(x)


try:  # Optuna's vectorised erf (numpy has none); a release that moves it gets Optuna's own sampling
    from optuna.samplers._tpe._erf import erf as _erf_found

    def _optuna_erf(x: np.ndarray) -> np.ndarray:
        """Return Optuna's ``erf`` of ``x``: its per-value math.erf compiled (a Python call per value
        was a third of a model fit, one per optimiser batch), its own pass on large arrays."""
        if x.size < OPTUNA_PER_VALUE_BELOW:
            out: np.ndarray = _math_erf(np.asarray(x, dtype=np.float64))
            return out
        return _erf_found(x)

    erf: _Erf | None = _optuna_erf
except ImportError:  # pragma: no cover - optuna is pinned
    erf = None


# A table holds kernels x values per parameter and a draw reads a row of it per candidate: past this
# many values Optuna's own sampling (cost independent of the grid) is the cheaper one.
MAX_GRID = 1000


@dataclass(frozen=True, slots=True)
class ParzenTables:
    """One estimator: kernel weights, and per parameter the grid values and each kernel's log mass."""

    log_weights: np.ndarray  # (kernels,)
    weights: np.ndarray  # (kernels,), sums to 1
    grids: tuple[np.ndarray, ...]  # per parameter: internal values (categorical: choice indices)
    log_masses: tuple[np.ndarray, ...]  # per parameter: (kernels, grid) log probabilities
    cumulative: tuple[np.ndarray, ...]  # per parameter: (kernels, grid) running sums of the masses

    def sample(self, rng: np.random.RandomState, size: int) -> np.ndarray:
        """Return ``size`` draws (rows) as grid indices, one column per parameter."""
        kernels = rng.choice(len(self.weights), p=self.weights, size=size)
        out = np.empty((size, len(self.grids)), dtype=np.int64)
        for i, cumulative in enumerate(self.cumulative):
            u = rng.random_sample(size)
            rows = cumulative[kernels]
            out[:, i] = np.minimum((rows < u[:, None] * rows[:, -1:]).sum(axis=1), rows.shape[1] - 1)
        return out

    def log_pdf(self, indices: np.ndarray) -> np.ndarray:
        """Return the mixture's log probability of each row of grid ``indices``."""
        per_kernel = np.broadcast_to(self.log_weights, (len(indices), len(self.log_weights))).copy()
        for i, log_mass in enumerate(self.log_masses):
            per_kernel += log_mass[:, indices[:, i]].T
        top = per_kernel.max(axis=1)
        return np.asarray(np.log(np.exp(per_kernel - top[:, None]).sum(axis=1)) + top, dtype=float)

    def values(self, indices: np.ndarray) -> list[dict[int, float]]:
        """Return the internal values of rows of grid ``indices`` keyed by parameter position."""
        return [{i: float(self.grids[i][j]) for i, j in enumerate(row)} for row in indices]


def grid(distribution: BaseDistribution) -> np.ndarray | None:
    """Return the internal values a discrete linear parameter takes (None: continuous, log, or more
    than MAX_GRID values)."""
    if isinstance(distribution, CategoricalDistribution):
        count = len(distribution.choices)
        return np.arange(count, dtype=float) if count <= MAX_GRID else None
    if isinstance(distribution, (IntDistribution, FloatDistribution)) and not distribution.log \
            and distribution.step is not None:
        count = round((distribution.high - distribution.low) / distribution.step) + 1
        if count <= MAX_GRID:
            return distribution.low + np.arange(count, dtype=float) * distribution.step
    return None


def tables(estimator: Any, search_space: dict[str, BaseDistribution]) -> ParzenTables | None:
    """Return ``estimator`` (an Optuna ``_ParzenEstimator``) as tables, or None if the space or the
    estimator's layout is not one this module knows (then Optuna's own sampling is used)."""
    if erf is None:
        return None
    try:
        mixture = estimator._mixture_distribution
        weights = np.asarray(mixture.weights, dtype=float)
        kernels = list(mixture.distributions)
    except AttributeError:
        return None
    grids, logs, sums = [], [], []
    for kernel, distribution in zip(kernels, search_space.values(), strict=True):
        values = grid(distribution)
        if values is None:
            return None
        if isinstance(distribution, CategoricalDistribution):
            probabilities = np.asarray(getattr(kernel, "weights", np.empty(0)), dtype=float)
        else:
            probabilities = _cell_masses(kernel, values, float(getattr(distribution, "step", 0)), erf)
        if probabilities.shape != (len(weights), len(values)):
            return None
        probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore"):  # a cell far in a narrow kernel's tail: log 0 = -inf
            logs.append(np.log(probabilities))
        grids.append(values)
        sums.append(np.cumsum(probabilities, axis=1))
    with np.errstate(divide="ignore"):
        log_weights = np.log(weights)
    return ParzenTables(log_weights, weights, tuple(grids), tuple(logs), tuple(sums))


def _cell_masses(kernel: Any, values: np.ndarray, step: float, erf: _Erf) -> np.ndarray:
    """Return each kernel's normal mass on each value's cell (kernels x values, unnormalised)."""
    mu = np.asarray(getattr(kernel, "mu", np.empty(0)), dtype=float)[:, None]
    sigma = np.asarray(getattr(kernel, "sigma", np.empty(0)), dtype=float)[:, None]
    edges = np.append(values - step / 2, values[-1] + step / 2)
    # erf differences: both ends far in one tail lose relative precision, but such a cell's mass is
    # negligible next to the prior kernel's in every mixture
    cdf = erf((edges[None, :] - mu) / (sigma * math.sqrt(2)))
    return np.asarray(0.5 * (cdf[:, 1:] - cdf[:, :-1]))
