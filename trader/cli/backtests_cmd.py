"""`tradebot backtests`: stored backtest runs side by side, newest first, to compare settings and results.

Runs are stored by `tradebot backtest --save` and by every Telegram /backtest. Parameters are shown only
where they differ from the strategy's defaults, so two runs of one strategy show what was changed.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

from trader.errors import InputError
from trader.ports.store import BacktestRun, JsonValue

COLUMNS = ("ID", "CREATED (UTC)", "STRATEGY", "PAIRS", "TF", "PERIOD", "TRADES", "RETURN", "MAX DD",
           "SHARPE", "WIN", "PF", "PARAMETERS")
MAX_PARAMS = 60


def register(sub: Any) -> None:
    """Add the `backtests` command."""
    parser: argparse.ArgumentParser = sub.add_parser("backtests",
                                                     help="list stored backtest runs to compare them")
    parser.add_argument("--limit", type=int, default=20, metavar="N", help="runs to show (default 20)")
    parser.add_argument("--strategy", metavar="NAME", help="only runs of this strategy")
    parser.set_defaults(func=_list)


async def _list(args: argparse.Namespace) -> int:
    from trader.cli.secrets_cmd import open_store
    from trader.config import load_settings

    if not 1 <= args.limit <= 1000:
        raise InputError(f"--limit must be between 1 and 1000, got {args.limit}")
    settings = load_settings(args.config)
    async with open_store(settings) as uow_factory, uow_factory() as uow:
        # filtering after the query: a strategy's runs may be older than the newest `limit`
        runs = await uow.backtests.recent(args.limit if args.strategy is None else 1000)
    if args.strategy is not None:
        runs = [r for r in runs if r.strategy == args.strategy][:args.limit]
    if not runs:
        print("no stored backtest runs" + (f" of {args.strategy}" if args.strategy else "")
              + ": run `tradebot backtest ... --save` or /backtest in Telegram")
        return 0
    print(runs_table(runs, strategy_defaults({r.strategy for r in runs})))
    return 0


def strategy_defaults(names: set[str]) -> dict[str, dict[str, object]]:
    """Return the default parameters of each registered strategy in ``names`` (unknown ones: none)."""
    from trader.strategies.registry import default_registry

    registry = default_registry()
    defaults: dict[str, dict[str, object]] = {}
    for name in names:
        if name in registry.names():
            defaults[name] = {key: param.default for key, param in registry.get(name).params_spec.items()}
    return defaults


def runs_table(runs: Sequence[BacktestRun], defaults: Mapping[str, Mapping[str, object]]) -> str:
    """Return the runs as an aligned text table, one row per run."""
    rows = [COLUMNS, *(_row(run, defaults.get(run.strategy, {})) for run in runs)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    return "\n".join("  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
                     for row in rows)


def _row(run: BacktestRun, defaults: Mapping[str, object]) -> tuple[str, ...]:
    k = run.kpis
    drawdown = _number(k.get("max_drawdown"))
    if drawdown is None and _number(k.get("max_drawdown_pct")) is not None:  # runs stored before 2026-11
        drawdown = float(k["max_drawdown_pct"]) / 100  # type: ignore[arg-type]
    changed = {key: value for key, value in run.params.items() if defaults.get(key, object()) != value}
    params = ", ".join(f"{key}={value}" for key, value in sorted(changed.items())) or "defaults"
    return (
        str(run.id), f"{run.created_at:%Y-%m-%d %H:%M}", run.strategy, ",".join(run.pairs), run.timeframe,
        f"{run.period_start:%Y-%m-%d}..{run.period_end:%Y-%m-%d}", str(k.get("trades", "-")),
        _pct(_number(k.get("total_return"))), _pct(drawdown, sign=False), _fixed(_number(k.get("sharpe"))),
        _pct(_number(k.get("win_rate")), sign=False, digits=0), _fixed(_number(k.get("profit_factor"))),
        params if len(params) <= MAX_PARAMS else params[:MAX_PARAMS - 1] + "…",
    )


def _number(value: JsonValue | None) -> float | None:
    """Return a stored KPI as a float ("inf" included), None when missing or not a number."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _pct(value: float | None, *, sign: bool = True, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value * 100:+.{digits}f}%" if sign else f"{value * 100:.{digits}f}%"


def _fixed(value: float | None) -> str:
    return "-" if value is None else "inf" if value == float("inf") else f"{value:.2f}"
