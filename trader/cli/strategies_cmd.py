"""`tradebot strategies`: every registered strategy with its description, parameters and timeframe.

Parameters show their default, the allowed range (also the optimiser's search space) and their doc
line; the timeframe is the one the configuration runs the strategy on, or the exchange default for a
strategy that is not enabled.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    """Add the `strategies` command."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "strategies", help="list the strategies with their parameters (defaults, ranges) and timeframe")
    parser.add_argument("name", nargs="?", help="show only this strategy")
    parser.set_defaults(func=_list)


def _list(args: argparse.Namespace) -> int:
    from trader.config import load_settings
    from trader.core.strategies.registry import default_registry
    from trader.live.parameters import param_bounds

    settings = load_settings(args.config)
    registry = default_registry()
    names = [registry.get(args.name).name] if args.name else registry.names()  # unknown: a hint
    enabled = {e.name: e for e in settings.strategies}
    blocks = []
    for name in names:
        cls = registry.get(name)
        entry = enabled.get(name)
        if entry is not None:
            where = f"timeframe {entry.timeframe or settings.exchange.timeframe} · enabled on " \
                    f"{', '.join(entry.pairs or settings.exchange.pairs)}"
        else:
            where = f"timeframe {settings.exchange.timeframe} (exchange default) · not enabled"
        lines = [f"{name}: {cls.description}", f"  {where}"]
        width = max((len(k) for k in cls.params_spec), default=0)
        for key, spec in cls.params_spec.items():
            bounds = param_bounds(spec)
            extra = " · ".join(x for x in (bounds, spec.doc) if x)
            line = f"  {key.ljust(width)}  default {spec.default!s:<8}"
            lines.append(f"{line}  {extra}" if extra else line)
        blocks.append("\n".join(lines))
    print("\n\n".join(blocks))
    return 0
