"""`tradebot audit`: show the newest audit-log entries (commands, parameter changes, orders), filtered."""

from __future__ import annotations

import argparse
from typing import Any

from trader.config import load_settings
from trader.core.errors import InputError
from trader.runtime.clock import SystemClock
from trader.runtime.offline import open_store
from trader.services.audit import AuditService


def register(sub: Any) -> None:
    """Add the `audit` command."""
    parser: argparse.ArgumentParser = sub.add_parser("audit", help="show the audit log, newest first")
    parser.add_argument("--limit", type=int, default=20, metavar="N", help="entries to show (default 20)")
    parser.add_argument("--actor", metavar="X", help="only this actor, e.g. telegram:12345, engine, cli")
    parser.add_argument("--action", metavar="Y", help="only this action; 'order' also finds order.*")
    parser.set_defaults(func=_audit)


async def _audit(args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 10_000:
        raise InputError(f"--limit must be between 1 and 10000, got {args.limit}")
    settings = load_settings(args.config)
    async with open_store(settings) as uow_factory:
        entries = await AuditService(uow_factory, SystemClock()).recent(args.limit, args.actor, args.action)
    if not entries:
        print("no audit entries match")
        return 0
    print(f"{'TIME (UTC)':<19}  {'ACTOR':<16} {'ACTION':<16} {'RESULT':<12} DETAIL")
    for e in entries:
        print(f"{e.ts:%Y-%m-%d %H:%M:%S}  {e.actor:<16} {e.action:<16} {e.result:<12} {e.detail}")
    return 0
