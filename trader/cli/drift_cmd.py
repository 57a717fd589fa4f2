"""`tradebot drift`: the account's trades against a backtest of the period it traded, trade by trade.

Reads the configured store (``--replay``: the demo replay's database), re-runs the backtest with the
stored candles and the parameters in force at each time, and prints the report of
``trader.services.drift`` through the shared formatter. Exit code 1 when a decision differs, so a cron
job or CI can act on it; ``--alert`` also queues the warning alert in the outbox for the running bot.
Markets are described as the replay describes them (``backtest.markets.default_market``); the nightly
job inside the running bot uses the venue's own market data instead.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from trader.core.errors import InputError


def register(sub: Any) -> None:
    """Add the `drift` command."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "drift", help="compare the account's trades with a backtest of the same period")
    parser.add_argument("--since", metavar="DATE", help="start at this day (YYYY-MM-DD, UTC); default: "
                                                         "since the account started")
    parser.add_argument("--replay", action="store_true",
                        help="the demo replay's account (tradebot run --replay)")
    parser.add_argument("--all", action="store_true", dest="every_trade",
                        help="list every trade, not only those that differ")
    parser.add_argument("--alert", action="store_true",
                        help="queue a warning alert when a decision differs (the running bot sends it)")
    parser.set_defaults(func=_drift)


def since_date(text: str | None) -> datetime | None:
    """Return midnight UTC of ``text`` (YYYY-MM-DD), None without one; InputError for anything else."""
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise InputError(f"--since must be a day as YYYY-MM-DD, got {text!r}") from None


async def _drift(args: argparse.Namespace) -> int:
    from trader.config import load_settings
    from trader.core.strategies.registry import default_registry
    from trader.runtime.clock import SystemClock
    from trader.runtime.container import replay_settings
    from trader.runtime.offline import open_store
    from trader.services.drift import DriftService, DriftSetup
    from trader.services.drift_text import drift_report

    since = since_date(args.since)
    settings = load_settings(args.config)
    if args.replay:
        settings = replay_settings(settings)
    live = settings.exchange.mode == "live" and not args.replay
    setup = DriftSetup(settings.exchange, settings.risk, tuple(settings.strategies), default_registry(),
                       start_balance=None if live else settings.exchange.paper_start_balance)
    async with open_store(settings) as uow_factory:
        view = await DriftService(uow_factory, SystemClock(), setup).report(since, alert=args.alert)
    print(drift_report(view, every_trade=args.every_trade))
    return 1 if view.logic_differences else 0
