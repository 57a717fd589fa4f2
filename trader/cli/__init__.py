"""The `tradebot` console script (argparse): one module per command group, listed in COMMAND_MODULES.

A command function takes the parsed args and returns an exit code (or a coroutine returning one).
TraderError becomes a plain message on stderr; ConfigError exits with code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import sys
from collections.abc import Sequence

from trader import __version__
from trader.errors import ConfigError, TraderError

# Each module exposes register(subparsers). Add new command groups here, one line each.
COMMAND_MODULES: tuple[str, ...] = (
    "trader.cli.config_cmd",
    "trader.cli.exchanges_cmd",
    "trader.cli.secrets_cmd",
    "trader.cli.audit_cmd",
    "trader.cli.report_cmd",
    "trader.cli.db_cmd",
    "trader.cli.data_cmd",
    "trader.cli.backtest_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every command group registered."""
    parser = argparse.ArgumentParser(prog="tradebot", description="Telegram-controlled crypto trader")
    parser.add_argument("--version", action="version", version=f"tradebot {__version__}")
    parser.add_argument("--config", metavar="FILE", help="TOML config file (env vars override it)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        result = func(args)
        if inspect.isawaitable(result):
            result = asyncio.run(result)  # type: ignore[arg-type]
        return int(result or 0)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except TraderError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
