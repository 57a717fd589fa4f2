"""Argument parsing shared by `tradebot optimise` and `tradebot check-bias`: pairs, parameters,
search ranges, dates, and loading the candles they run on (bundled samples or --data-dir)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trader.core.domain.candles import CandleFrame, datetime_to_ms, timeframe_ms
from trader.core.domain.ids import Symbol, split_symbol
from trader.core.errors import ArgError


def add_data_args(p: argparse.ArgumentParser) -> None:
    """Add --strategy, --pairs, --timeframe, --from, --to, --param and --data-dir."""
    p.add_argument("--strategy", required=True, help="registered strategy name")
    p.add_argument("--pairs", help="comma-separated pairs (default: the configured pairs)")
    p.add_argument("--timeframe", help="candle timeframe, e.g. 1h (default: the configured one)")
    p.add_argument("--from", dest="start", type=day, help="first UTC day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", type=day, help="end UTC day (exclusive), YYYY-MM-DD")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="fixed strategy parameter (repeatable)")
    p.add_argument("--data-dir", type=Path, help="directory of CSV candle files (default: bundled samples)")


def pairs(text: str, usage: str) -> tuple[Symbol, ...]:
    """Return the distinct pairs of 'BTC/USDT,ETH/USDT'."""
    out = []
    for raw in filter(None, (p.strip().upper() for p in text.split(","))):
        try:
            split_symbol(raw)
        except ValueError as exc:
            raise ArgError(str(exc), usage) from exc
        out.append(Symbol(raw))
    if not out:
        raise ArgError("--pairs is empty", usage)
    return tuple(dict.fromkeys(out))


def assignments(items: Sequence[str], flag: str, usage: str) -> dict[str, str]:
    """Return NAME -> VALUE from 'NAME=VALUE' items."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ArgError(f"{flag} {item!r} is not NAME=VALUE", usage)
        out[name.strip()] = value.strip()
    return out


def search_items(items: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Return (names, overrides) from --search items: 'a,b', 'a' or 'a=LOW:HIGH[:STEP]' / 'a=x,y'."""
    names: list[str] = []
    overrides: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if sep:
            overrides[name.strip()] = value.strip()
        else:
            names.extend(n.strip() for n in item.split(",") if n.strip())
    return names, overrides


def timeframe(text: str, usage: str) -> str:
    """Return ``text`` if it is a timeframe like 1h."""
    try:
        timeframe_ms(text)
    except ValueError as exc:
        raise ArgError(str(exc), usage) from exc
    return text


def day(text: str) -> datetime:
    """Parse YYYY-MM-DD as a UTC midnight (argparse type)."""
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2024-01-31") from None


def fraction(text: str) -> float:
    """Parse a number in (0, 1) (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 1")
    return value


def positive_int(text: str) -> int:
    """Parse an int >= 1 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def load_pair_candles(args: Any, settings: Any, usage: str) -> tuple[str, dict[Symbol, CandleFrame]]:
    """Return (timeframe, candles per pair) up to --to from --data-dir or the bundled samples."""
    from trader.cli.backtest_cmd import SAMPLE_DIR, load_candles

    chosen = pairs(args.pairs, usage) if args.pairs else tuple(Symbol(p) for p in settings.exchange.pairs)
    tf = timeframe(args.timeframe or settings.exchange.timeframe, usage)
    end_ms = None if args.end is None else datetime_to_ms(args.end)
    if args.start is not None and end_ms is not None and end_ms <= datetime_to_ms(args.start):
        raise ArgError("--to must be after --from", usage)
    data_dir: Path = args.data_dir or SAMPLE_DIR
    return tf, {p: load_candles(data_dir, p, tf, None, end_ms) for p in chosen}
