"""What the optimiser scores: a registry strategy, or the pairs strategy's setup (two legs, one group).

``build`` turns a name and parameters into either; ``backtest`` runs each through its one backtest entry
point (``backtest.api.run_backtest``, ``backtest.pair_backtest.run_pair_backtest``), so a trial of the
pairs strategy simulates its pair groups exactly as ``tradebot backtest --strategy pairs`` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from trader.core.backtest.api import run_backtest
from trader.core.backtest.pair_backtest import run_pair_backtest
from trader.core.backtest.result import BacktestResult
from trader.core.backtest.settings import BacktestSettings
from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import Symbol
from trader.core.strategies.base import Param, Strategy
from trader.core.strategies.pair_setup import PAIRS_NAME, PARAMS_SPEC, PairSetup, pair_setup
from trader.core.strategies.registry import create, default_registry

Candidate = Strategy | PairSetup


def build(name: str, params: Mapping[str, Any], legs: Sequence[str]) -> Candidate:
    """Return the strategy ``name`` with ``params``; the pairs setup on ``legs`` (y, x) for ``pairs``.

    StrategyError when the parameters are refused.
    """
    return pair_setup(legs, params) if name == PAIRS_NAME else create(name, params)


def params_spec(name: str) -> Mapping[str, Param]:
    """Return the declared parameters (and their search ranges) of strategy ``name``."""
    return PARAMS_SPEC if name == PAIRS_NAME else default_registry().get(name).params_spec


def name_of(candidate: Candidate) -> str:
    """Return the strategy name a candidate's runs carry."""
    return PAIRS_NAME if isinstance(candidate, PairSetup) else candidate.name


def backtest(candidate: Candidate, candles: Mapping[Symbol, CandleFrame], settings: BacktestSettings, *,
             trade_from_ms: int | None = None) -> BacktestResult:
    """Backtest ``candidate`` on ``candles`` through its backtest entry point."""
    settings = replace(settings, strategy=name_of(candidate))
    if isinstance(candidate, PairSetup):
        return run_pair_backtest(candidate, candles, settings, trade_from_ms=trade_from_ms)
    return run_backtest(candidate, candles, settings, trade_from_ms=trade_from_ms)
