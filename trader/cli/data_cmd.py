"""`tradebot data`: import CSV candles, import the bundled samples, fetch from an exchange, list coverage."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from trader.config import Settings, load_settings
from trader.core.domain.candles import ms_to_datetime, timeframe_ms
from trader.core.domain.ids import Symbol, split_symbol
from trader.core.errors import ArgError
from trader.runtime import offline
from trader.runtime.clock import SystemClock
from trader.services.market_data import GapReport, MarketDataService


def register(sub: Any) -> None:
    """Add the `data` command group."""
    parser: argparse.ArgumentParser = sub.add_parser("data", help="candle data: import, fetch, list")
    inner = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    imp = inner.add_parser("import", help="import CSV/CSV.gz candles (timestamp,open,high,low,close,volume)")
    imp.add_argument("files", nargs="+", metavar="FILE", help="e.g. BTC_USDT-1h.csv.gz")
    imp.add_argument("--exchange", default="binance")
    imp.add_argument("--symbol", type=_pair, help="pair, when the file name does not say (BTC/USDT)")
    imp.add_argument("--timeframe", type=_timeframe, help="timeframe, when the file name does not say")
    imp.set_defaults(func=_import)
    samples = inner.add_parser("import-samples", help="import the bundled sample candles")
    samples.add_argument("--exchange", default="binance")
    samples.set_defaults(func=_import_samples)
    fetch = inner.add_parser("fetch", help="download closed candles, resuming after the last stored one")
    fetch.add_argument("--exchange", help="ccxt id (default: the configured exchange)")
    fetch.add_argument("--pair", action="append", type=_pair, required=True, help="repeatable")
    fetch.add_argument("--timeframe", type=_timeframe, default="1h")
    fetch.add_argument("--since", type=_day, required=True, help="UTC date, YYYY-MM-DD")
    fetch.add_argument("--until", type=_day, help="UTC date, YYYY-MM-DD (default: now)")
    fetch.add_argument("--fill-gaps", action="store_true",
                       help="also request every gap inside the stored series (outages stay gaps)")
    fetch.add_argument("--funding", action="store_true",
                       help="fetch each pair's perpetual funding-rate history instead of candles, as "
                            "BASE_QUOTE-funding.csv files in --out (`tradebot backtest --funding-dir`)")
    fetch.add_argument("--out", type=Path, default=Path("data") / "funding",
                       help="folder of the funding-rate files (default: ./data/funding)")
    fetch.set_defaults(func=_fetch)
    listing = inner.add_parser("list", help="stored series with first/last candle, count and gaps")
    listing.add_argument("--gaps", action="store_true", help="print every gap")
    listing.set_defaults(func=_list)
    drop = inner.add_parser("drop-bad", help="delete stored candles that break the sanity rules")
    drop.set_defaults(func=_drop_bad)
    resample = inner.add_parser("resample", help="build a higher timeframe from complete lower candles")
    resample.add_argument("--exchange", default="binance")
    resample.add_argument("--pair", type=_pair, required=True)
    resample.add_argument("--source", type=_timeframe, required=True, help="e.g. 1m")
    resample.add_argument("--target", type=_timeframe, required=True, help="e.g. 1h")
    resample.set_defaults(func=_resample)


@asynccontextmanager
async def market_data(settings: Settings) -> AsyncIterator[MarketDataService]:
    """Yield the service over the configured database, upgrading the schema if allowed."""
    async with offline.open_store(settings) as uow_factory:
        yield MarketDataService(uow_factory, SystemClock())


async def _import(args: argparse.Namespace) -> int:
    if len(args.files) > 1 and (args.symbol or args.timeframe):
        raise ArgError("--symbol/--timeframe apply to a single file", "tradebot data import FILE ...")
    async with market_data(load_settings(args.config)) as service:
        for name in args.files:
            r = await service.import_csv(Path(name), args.exchange, args.symbol, args.timeframe)
            print(f"{r.path}: {r.rows:,} {r.symbol} {r.timeframe} candles "
                  f"{_when(r.first_ms)} .. {_when(r.last_ms)} -> {r.exchange}")
    return 0


async def _import_samples(args: argparse.Namespace) -> int:
    async with market_data(load_settings(args.config)) as service:
        for r in await service.import_samples(args.exchange):
            print(f"{Path(r.path).name}: {r.rows:,} {r.symbol} {r.timeframe} candles "
                  f"{_when(r.first_ms)} .. {_when(r.last_ms)}")
    return 0


async def _fetch(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    config = settings.exchange.model_copy(update={"name": args.exchange or settings.exchange.name})
    if args.funding:
        return await _fetch_funding(args, offline.public_perpetuals(config))
    venue = offline.public_venue(config)
    try:
        async with market_data(settings) as service:
            for pair in args.pair:
                r = await service.fetch(venue, config.name, pair, args.timeframe, args.since, args.until,
                                        fill_gaps=args.fill_gaps)
                last = _when(r.last_ms) if r.last_ms is not None else "none"
                older = f" ({r.backfilled:,} before the stored series)" if r.backfilled else ""
                print(f"{config.name} {r.symbol} {r.timeframe}: {r.rows:,} candles{older} in {r.pages} "
                      f"requests from {_when(r.start_ms)}; last stored {last}")
    finally:
        await venue.close()
    return 0


async def _fetch_funding(args: argparse.Namespace, venue: Any) -> int:
    """Page through each pair's funding-rate history from --since and write it as CSV."""
    from trader.core.domain.futures import swap_symbol
    from trader.services.funding_files import write_funding_csv

    until = args.until or datetime.now(UTC)
    try:
        await venue.markets()
        for pair in args.pair:
            rows: list[tuple[datetime, Any]] = []
            since, pages = args.since, 0
            while since < until:
                page = [r for r in await venue.funding_rates(swap_symbol(pair), since) if r[0] < until]
                pages += 1
                if not page or (rows and page[-1][0] <= rows[-1][0]):
                    break
                rows += [r for r in page if not rows or r[0] > rows[-1][0]]
                since = page[-1][0] + timedelta(milliseconds=1)
            path = write_funding_csv(args.out, pair, rows)
            print(f"{pair} funding: {len(rows):,} rates in {pages} requests -> {path}")
    finally:
        await venue.close()
    return 0


async def _list(args: argparse.Namespace) -> int:
    async with market_data(load_settings(args.config)) as service:
        reports = await service.coverage()
    if not reports:
        print("no candles stored; try `tradebot data import-samples`")
        return 0
    print(f"{'exchange':<10} {'pair':<12} {'tf':<4} {'first (UTC)':<17} {'last (UTC)':<17} "
          f"{'candles':>9} {'gaps':>5} {'missing':>8} {'bad':>5}")
    for r in reports:
        print(_row(r))
        if r.bad:
            print(f"    {r.bad:,} bad rows skipped by every reader (first open time {r.first_bad_ms}); "
                  "delete them with `tradebot data drop-bad`, then re-import a corrected file")
        if args.gaps:
            for gap in r.gaps:
                print(f"    gap from {_when(gap.start_ms)}: {gap.missing} missing")
    return 0


async def _drop_bad(args: argparse.Namespace) -> int:
    async with market_data(load_settings(args.config)) as service:
        count = await service.drop_bad()
    print(f"deleted {count:,} bad candles" if count else "no bad candles stored")
    return 0


async def _resample(args: argparse.Namespace) -> int:
    async with market_data(load_settings(args.config)) as service:
        count = await service.resample(args.exchange, args.pair, args.source, args.target)
    print(f"stored {count:,} complete {args.pair} {args.target} candles built from {args.source}")
    return 0


def _row(r: GapReport) -> str:
    first = _when(r.first_ms) if r.first_ms is not None else "-"
    last = _when(r.last_ms) if r.last_ms is not None else "-"
    return (f"{r.exchange:<10} {r.symbol:<12} {r.timeframe:<4} {first:<17} {last:<17} "
            f"{r.count:>9,} {len(r.gaps):>5} {r.missing:>8,} {r.bad:>5,}")


def _when(ms: int) -> str:
    return ms_to_datetime(ms).strftime("%Y-%m-%d %H:%M")


def _pair(text: str) -> Symbol:
    try:
        split_symbol(text.upper())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return Symbol(text.upper())


def _timeframe(text: str) -> str:
    try:
        timeframe_ms(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _day(text: str) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD (UTC)") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
