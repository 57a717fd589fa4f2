"""Backtest runs: the settings a run is given and the record it is stored as (the same for /backtest and
`tradebot backtest`), and stored runs as comparable views: KPIs read defensively, parameters reduced to
what changed.

Runs stored before the KPI set was unified (``backtest.report.kpi_summary``) named the drawdown
``max_drawdown_pct`` in percent; they still read correctly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from trader.config.sections import BacktestConfig, RiskConfig
from trader.core.analytics.kpis import Kpis
from trader.core.backtest.report import result_json
from trader.core.backtest.result import BacktestResult
from trader.core.backtest.runner import BacktestSettings
from trader.core.sim.costs import FeeModel, SlippageModel
from trader.core.strategies.registry import StrategyRegistry

if TYPE_CHECKING:  # the store's records and the DTOs load ~0.1 s of modules a plain `tradebot backtest` skips
    from trader.ports.store import BacktestRun, JsonValue
    from trader.services.dto import BacktestRunView


def run_settings(config: BacktestConfig, risk: RiskConfig, strategy: str, timeframe: str, quote: str, *,  # noqa: PLR0913 - the overrides are the CLI flags
                 balance: Decimal | None = None, fee: Decimal | None = None,
                 slippage: Decimal | None = None) -> BacktestSettings:
    """Return a run's settings: the configured costs and balance unless the caller overrides them."""
    return BacktestSettings(
        strategy=strategy, timeframe=timeframe, risk=risk,
        start_balance=config.start_balance if balance is None else balance, quote=quote,
        fees=FeeModel.flat(config.fee if fee is None else fee),
        slippage=SlippageModel(config.slippage if slippage is None else slippage),
    )


def run_record(result: BacktestResult, kpis: Kpis, created_at: datetime) -> BacktestRun:
    """Return the stored form of a run: the JSON export's parameters, KPIs and trades, so runs compare."""
    from trader.ports.store import BacktestRun

    document = json.loads(result_json(result, kpis))
    return BacktestRun(created_at=created_at, strategy=result.strategy, params=document["params"],
                       pairs=tuple(result.pairs), timeframe=result.timeframe, period_start=result.start,
                       period_end=result.end, kpis=document["kpis"], trades=document["trades"])


def strategy_defaults(registry: StrategyRegistry, names: Iterable[str]) -> dict[str, dict[str, object]]:
    """Return the default parameters of each registered strategy among ``names`` (others: none)."""
    known = set(registry.names())
    return {name: {key: spec.default for key, spec in registry.get(name).params_spec.items()}
            for name in set(names) & known}


def run_view(run: BacktestRun, defaults: Mapping[str, object]) -> BacktestRunView:
    """Return the comparison view of a stored run, given its strategy's default parameters."""
    from trader.services.dto import BacktestRunView

    k = run.kpis
    drawdown = _number(k.get("max_drawdown"))
    old_pct = _number(k.get("max_drawdown_pct"))
    if drawdown is None and old_pct is not None:
        drawdown = old_pct / 100
    trades = k.get("trades")
    missing = object()
    changed = tuple((key, str(value)) for key, value in sorted(run.params.items())
                    if defaults.get(key, missing) != value)
    return BacktestRunView(
        id=run.id or 0, created_at=run.created_at, strategy=run.strategy, pairs=tuple(run.pairs),
        timeframe=run.timeframe, start=run.period_start, end=run.period_end,
        trades=trades if isinstance(trades, int) and not isinstance(trades, bool) else None,
        total_return=_number(k.get("total_return")), max_drawdown=drawdown, sharpe=_number(k.get("sharpe")),
        win_rate=_number(k.get("win_rate")), profit_factor=_number(k.get("profit_factor")), changed=changed,
    )


def _number(value: JsonValue | None) -> float | None:
    """Return a stored KPI as a float ("inf" included), None when missing or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
