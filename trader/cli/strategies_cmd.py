"""`tradebot strategies`: every registered strategy with its description, parameters and timeframe.

Parameters show their default, the allowed range (also the optimiser's search space) and their doc
line; the timeframe is the one the configuration runs the strategy on, or the exchange default for a
strategy that is not enabled.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trader.config.sections import StrategyEntry
    from trader.config.settings import Settings
    from trader.core.strategies.base import Param


def register(sub: Any) -> None:
    """Add the `strategies` command."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "strategies", help="list the strategies with their parameters (defaults, ranges) and timeframe")
    parser.add_argument("name", nargs="?", help="show only this strategy")
    parser.set_defaults(func=_list)


PAIRS_DESCRIPTION = ("Pairs statistical arbitrage: rolling OLS hedge ratio, EWMA z-score of the spread; "
                     "both legs opened and closed together as one position group")


def _list(args: argparse.Namespace) -> int:
    from trader.config import load_settings
    from trader.core.strategies.pair_setup import PAIRS_NAME, PARAMS_SPEC
    from trader.core.strategies.registry import default_registry

    settings = load_settings(args.config)
    registry = default_registry()
    wanted = args.name.strip().lower() if args.name else None
    names = [] if wanted == PAIRS_NAME else (
        [registry.get(args.name).name] if args.name else registry.names())  # unknown: a hint
    enabled = {e.name: e for e in settings.strategies}
    blocks = []
    for name in names:
        cls = registry.get(name)
        blocks.append(_block(name, cls.description, cls.params_spec, enabled.get(name), settings))
    if wanted in (None, PAIRS_NAME):
        blocks.append(_block(PAIRS_NAME, PAIRS_DESCRIPTION, PARAMS_SPEC, enabled.get(PAIRS_NAME), settings,
                             pairs_needed=2))
    print("\n\n".join(blocks))
    return 0


def _block(name: str, description: str, spec: Mapping[str, Param], entry: StrategyEntry | None,
           settings: Settings, *, pairs_needed: int = 0) -> str:
    """Return the text of one strategy: description, where it runs, and each parameter."""
    from trader.live.parameters import param_bounds

    if entry is not None:
        where = f"timeframe {entry.timeframe or settings.exchange.timeframe} · enabled on " \
                f"{', '.join(entry.pairs or settings.exchange.pairs)}"
    elif pairs_needed:
        where = f"timeframe {settings.exchange.timeframe} (exchange default) · not enabled " \
                f"(needs {pairs_needed} pairs: y then x)"
    else:
        where = f"timeframe {settings.exchange.timeframe} (exchange default) · not enabled"
    lines = [f"{name}: {description}", f"  {where}"]
    width = max((len(k) for k in spec), default=0)
    for key, param in spec.items():
        bounds = param_bounds(param)
        extra = " · ".join(x for x in (bounds, param.doc) if x)
        line = f"  {key.ljust(width)}  default {param.default!s:<8}"
        lines.append(f"{line}  {extra}" if extra else line)
    return "\n".join(lines)
