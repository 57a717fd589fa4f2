"""`tradebot exchanges capabilities`: print what each supported venue can hold (from ccxt metadata)."""

from __future__ import annotations

import argparse
from typing import Any

from trader.runtime.offline import capability_table, supported_venues


def register(sub: Any) -> None:
    """Add the `exchanges` command group."""
    parser: argparse.ArgumentParser = sub.add_parser("exchanges", help="exchange information")
    inner = parser.add_subparsers(dest="exchanges_command", metavar="ACTION", required=True)
    caps = inner.add_parser("capabilities", help="print the capability table (Markdown) per venue")
    caps.add_argument("venues", nargs="*", metavar="VENUE", help=f"default: {' '.join(supported_venues())}")
    caps.set_defaults(func=_capabilities)


def _capabilities(args: argparse.Namespace) -> int:
    rows, table = capability_table(tuple(args.venues))
    print(table)
    watched = [r["venue"] for r in rows if r["native stop"] == "no"]
    if watched:
        print(f"\nNo native stop (the engine watches the price and sends the exit): {', '.join(watched)}")
    return 0
