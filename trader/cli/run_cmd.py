"""`tradebot run`: the bot (Telegram when a token is configured, else headless with console alerts).

Modes: paper on the venue's public prices (default), live (``--mode live`` plus
``exchange.live_confirmed``), or replay: a demo over stored candles on a simulated clock, chosen with
``--replay`` or automatically when the exchange cannot be reached within ``--probe-timeout`` seconds.
"""

from __future__ import annotations

import argparse
from typing import Any

from trader.core.errors import ArgError

USAGE = "tradebot run [--mode paper|live] [--replay] [--speed N] [--max-candles N]"


def register(sub: Any) -> None:
    """Add the `run` command."""
    p: argparse.ArgumentParser = sub.add_parser(
        "run", help="run the bot (Telegram if a token is set, else headless); replay when offline")
    p.add_argument("--mode", choices=["paper", "live"], help="override exchange.mode")
    p.add_argument("--replay", action="store_true",
                   help="demo: replay stored candles (bundled samples) on a simulated clock")
    p.add_argument("--speed", type=float, metavar="N",
                   help="replay speed-up: simulated seconds per real second (default exchange.replay_speed)")
    p.add_argument("--max-candles", type=int, metavar="N", help="replay: stop after N candles, then exit")
    p.add_argument("--probe-timeout", type=float, default=5.0, metavar="SECONDS",
                   help="how long to wait for the exchange before falling back to replay (default 5)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import bot
    from trader.config import load_settings
    from trader.runtime.container import RunOptions

    if args.speed is not None and args.speed <= 0:
        raise ArgError("--speed must be positive", USAGE)
    if args.max_candles is not None and args.max_candles < 1:
        raise ArgError("--max-candles must be at least 1", USAGE)
    if args.probe_timeout <= 0:
        raise ArgError("--probe-timeout must be positive", USAGE)
    if args.mode == "live" and args.replay:
        raise ArgError("--replay simulates trading; it cannot be combined with --mode live", USAGE)
    settings = load_settings(args.config)
    options = RunOptions(mode=args.mode, replay=args.replay, speed=args.speed, max_candles=args.max_candles,
                         probe_timeout=args.probe_timeout)
    return bot.main(settings, options)
