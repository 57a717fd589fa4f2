"""Stored backtest runs as comparable views: KPIs read defensively, parameters reduced to what changed.

Runs stored before the KPI set was unified (``backtest.report.kpi_summary``) named the drawdown
``max_drawdown_pct`` in percent; they still read correctly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from trader.core.strategies.registry import StrategyRegistry
from trader.ports.store import BacktestRun, JsonValue
from trader.services.dto import BacktestRunView


def strategy_defaults(registry: StrategyRegistry, names: Iterable[str]) -> dict[str, dict[str, object]]:
    """Return the default parameters of each registered strategy among ``names`` (others: none)."""
    known = set(registry.names())
    return {name: {key: spec.default for key, spec in registry.get(name).params_spec.items()}
            for name in set(names) & known}


def run_view(run: BacktestRun, defaults: Mapping[str, object]) -> BacktestRunView:
    """Return the comparison view of a stored run, given its strategy's default parameters."""
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
