"""`tradebot backtests`: stored backtest runs side by side, newest first, to compare settings and results.

Runs are stored by `tradebot backtest --save` and by every Telegram /backtest. Parameters are shown only
where they differ from the strategy's defaults, so two runs of one strategy show what was changed.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from trader.core.errors import InputError
from trader.core.formatting import percent, ratio
from trader.services.dto import BacktestRunView

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
    from trader.config import load_settings
    from trader.core.strategies.registry import default_registry
    from trader.runtime.offline import open_store
    from trader.services.backtest_runs import run_view, strategy_defaults

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
    defaults = strategy_defaults(default_registry(), {r.strategy for r in runs})
    print(runs_table([run_view(r, defaults.get(r.strategy, {})) for r in runs]))
    return 0


def runs_table(views: Sequence[BacktestRunView]) -> str:
    """Return the runs as an aligned text table, one row per run."""
    rows = [COLUMNS, *(_row(view) for view in views)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    return "\n".join("  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
                     for row in rows)


def _row(v: BacktestRunView) -> tuple[str, ...]:
    params = ", ".join(f"{key}={value}" for key, value in v.changed) or "defaults"
    return (
        str(v.id), f"{v.created_at:%Y-%m-%d %H:%M}", v.strategy, ",".join(v.pairs), v.timeframe,
        f"{v.start:%Y-%m-%d}..{v.end:%Y-%m-%d}", "-" if v.trades is None else str(v.trades),
        percent(v.total_return, digits=1), percent(v.max_drawdown, sign=False, digits=1), ratio(v.sharpe),
        percent(v.win_rate, sign=False, digits=0), ratio(v.profit_factor, why="no losses"),
        params if len(params) <= MAX_PARAMS else params[:MAX_PARAMS - 1] + "…",
    )

