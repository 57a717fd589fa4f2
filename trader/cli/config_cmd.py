"""`tradebot config check`: validate and print the effective configuration, secrets masked."""

from __future__ import annotations

import argparse
import json
from typing import Any

from trader.config import load_settings, masked_dump


def register(sub: Any) -> None:
    """Add the `config` command group."""
    parser: argparse.ArgumentParser = sub.add_parser("config", help="configuration tools")
    inner = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = inner.add_parser("check", help="validate the config as `tradebot run` would and print it "
                                           "(secrets masked)")
    check.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    import asyncio

    from trader.core.errors import ConfigError
    from trader.runtime.preflight import check_runnable, stored_key_problems

    settings = load_settings(args.config)
    check_runnable(settings)  # what `tradebot run` checks at start-up, beyond the settings model
    missing = asyncio.run(stored_key_problems(settings))  # and once it has read the secret store
    if missing:
        raise ConfigError(missing)
    print(json.dumps(masked_dump(settings), indent=2, default=str))
    print("config OK")
    return 0
