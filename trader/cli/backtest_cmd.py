"""`tradebot backtest`: run a strategy over CSV candles (bundled samples or --data-dir) and report.

Candle files are named like the bundled ones: ``BTC_USDT-1h.csv.gz`` (or ``.csv``) with the columns
timestamp,open,high,low,close,volume (timestamp = open time, UTC ms). A missing timeframe is built
from a finer file that divides it. Candles before --from only warm the indicators up.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trader.cli import optimise_args as arg_types  # shared argument types of backtest/optimise
from trader.core.domain.candles import (
    CandleFrame,
    check_candles,
    datetime_to_ms,
    ms_to_datetime,
    timeframe_ms,
)
from trader.core.domain.futures import FuturesTerms
from trader.core.domain.ids import Symbol, split_symbol
from trader.core.errors import ArgError, DataError
from trader.core.strategies.pair_setup import PAIRS_NAME

if TYPE_CHECKING:
    from trader.config import Settings
    from trader.core.backtest.result import BacktestResult
    from trader.ports.store import BacktestRun

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"
USAGE = ("tradebot backtest --strategy NAME --pairs BTC/USDT[,ETH/USDT] --timeframe 1h "
         "[--from YYYY-MM-DD] [--to YYYY-MM-DD] [--param name=value ...] [--detail 1m] "
         "[--data-dir DIR | --source store] [--csv FILE] [--json FILE] [--png FILE] [--png-trades FILE] "
         "[--short] [--leverage N] [--funding-dir DIR] [--save]")
MAX_LEVERAGE = 125
_TIMEFRAMES = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d", "1w")
_PROGRESS_MIN_CANDLES = 100_000


def register(sub: Any) -> None:
    """Add the `backtest` command."""
    p: argparse.ArgumentParser = sub.add_parser("backtest", help="backtest a strategy on stored CSV candles",
                                                usage=USAGE)
    p.add_argument("--strategy", required=True, help="registered strategy name (tradebot strategies)")
    p.add_argument("--pairs", help="comma-separated pairs (default: the configured pairs)")
    p.add_argument("--timeframe", help="candle timeframe, e.g. 1h (default: the configured one)")
    p.add_argument("--from", dest="start", type=arg_types.day, help="first UTC day traded, YYYY-MM-DD")
    p.add_argument("--to", dest="end", type=arg_types.day, help="end UTC day (exclusive), YYYY-MM-DD")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="strategy parameter")
    p.add_argument("--detail", metavar="TIMEFRAME", help="lower timeframe to resolve stop+target candles")
    p.add_argument("--data-dir", type=Path, help="directory of CSV candle files (default: bundled samples)")
    p.add_argument("--source", choices=("files", "store"), default="files",
                   help="files: CSV (--data-dir); store: candles imported with `tradebot data`")
    p.add_argument("--exchange", help="exchange of the stored candles (default: the configured one)")
    p.add_argument("--save", action="store_true", help="store the run in the database (backtest runs)")
    p.add_argument("--balance", type=_decimal, help="start balance in the quote currency")
    p.add_argument("--fee", type=_decimal, help="fee per side as a fraction (0.001 = 0.1 %%)")
    p.add_argument("--slippage", type=_decimal, help="slippage on taker fills as a fraction")
    p.add_argument("--csv", type=Path, metavar="FILE", help="write the trades as CSV")
    p.add_argument("--json", type=Path, metavar="FILE",
                   help="write settings, KPIs, trades and equity as JSON")
    p.add_argument("--png", type=Path, metavar="FILE", help="write the equity curve chart as PNG")
    p.add_argument("--png-trades", type=Path, metavar="FILE",
                   help="write the candles with every entry and exit as PNG (one file per pair: "
                        "FILE-BASE_QUOTE.png when several)")
    p.add_argument("--short", action="store_true",
                   help="trade each pair's linear perpetual and take short signals too (default: as the "
                        "strategy is configured)")
    p.add_argument("--leverage", type=int, metavar="N",
                   help="trade the perpetuals at N x (margin, liquidation check); default: as configured")
    p.add_argument("--funding-dir", type=Path, metavar="DIR",
                   help="charge perpetuals the funding rates in DIR/BASE_QUOTE-funding.csv "
                        "(`tradebot data fetch --funding`)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--engine-path", action="store_true",
                   help="simulate through the engine's step at every event, not the fast path "
                        "(the report's 'simulation' line says which ran)")
    p.set_defaults(func=_run)


async def _run(args: argparse.Namespace) -> int:
    from trader.runtime.loading import modules_loading

    with modules_loading():  # the GC paused while modules load (runtime.loading)
        from trader.config import load_settings
        from trader.core.backtest.api import compiled_functions, run_backtest
        from trader.core.strategies.registry import create
        from trader.runtime.numba_cache import preloaded
        from trader.services.backtest_runs import run_settings
        from trader.services.funding_files import funding_path, read_funding

    settings = load_settings(args.config)
    if args.strategy == PAIRS_NAME:
        return await _run_pairs(args, settings)
    default_pairs = tuple(Symbol(p) for p in settings.exchange.pairs)
    pairs = arg_types.pairs(args.pairs, USAGE) if args.pairs else default_pairs
    timeframe = arg_types.timeframe(args.timeframe or settings.exchange.timeframe, USAGE)
    strategy = create(args.strategy, _params(args.param))
    first_ms = None if args.start is None else datetime_to_ms(args.start)
    end_ms = None if args.end is None else datetime_to_ms(args.end)
    if first_ms is not None and end_ms is not None and end_ms <= first_ms:
        raise ArgError("--to must be after --from", USAGE)
    detail_tf = None if args.detail is None else arg_types.timeframe(args.detail, USAGE)
    if detail_tf is not None and timeframe_ms(detail_tf) >= timeframe_ms(timeframe):
        raise ArgError(f"--detail {detail_tf} must be finer than --timeframe {timeframe}", USAGE)
    warmup_ms = strategy.required_history * timeframe_ms(timeframe)
    load_from = None if first_ms is None else first_ms - warmup_ms
    loader = _store_loader(settings, args.exchange or settings.exchange.name) if args.source == "store" \
        else _file_loader(args.data_dir or SAMPLE_DIR)
    # numba's start-up for the compiled loop (one pair, no detail) overlaps reading the candles
    with modules_loading(), preloaded(
            compiled_functions() if not args.engine_path and len(pairs) == 1 and detail_tf is None else ()):
        candles = {p: await loader(p, timeframe, load_from, end_ms) for p in pairs}
        detail = None if detail_tf is None else \
            {p: await loader(p, detail_tf, first_ms, end_ms) for p in pairs}
    for pair, frame in (detail or {}).items():
        _check_detail_overlaps(pair, candles[pair], frame, timeframe, str(detail_tf))
    settings_of_run = run_settings(settings.backtest, settings.risk, strategy.name, timeframe,
                                   split_symbol(pairs[0])[1], balance=args.balance, fee=args.fee,
                                   slippage=args.slippage)
    allow_short, futures = _swap_terms(args, settings)
    if futures is None and args.funding_dir is not None:
        raise ArgError("--funding-dir charges perpetuals only: add --short or --leverage N (or configure the "
                       'strategy with market = "swap")', USAGE)
    if futures is not None:
        funding = read_funding(args.funding_dir, pairs) if args.funding_dir else {}
        if args.funding_dir is not None and not funding:
            names = ", ".join(funding_path(args.funding_dir, p).name for p in pairs)
            raise DataError("no funding files", user_message=(
                f"--funding-dir {args.funding_dir}: no {names} there (write them with "
                f"`tradebot data fetch --funding --pair {pairs[0]} --out {args.funding_dir}`)"))
        settings_of_run = replace(settings_of_run, allow_short=allow_short, futures=futures, funding=funding)
    with _progress(sum(len(c) for c in candles.values()), args.quiet) as progress:
        result = run_backtest(strategy, candles, settings_of_run, detail=detail, trade_from_ms=first_ms,
                              progress=progress, engine_path=args.engine_path)
    await _emit(args, settings, result, candles)
    return 0


def _check_detail_overlaps(pair: Symbol, candles: CandleFrame, detail: CandleFrame, timeframe: str,
                           detail_tf: str) -> None:
    """Refuse detail candles that cover none of the run: they would resolve nothing, silently."""
    def span(frame: CandleFrame) -> str:
        if len(frame.timestamp) == 0:
            return "none"
        first, last = (ms_to_datetime(int(frame.timestamp[i])) for i in (0, -1))
        return f"{first:%Y-%m-%d} .. {last:%Y-%m-%d}"

    ts, dt = candles.timestamp, detail.timestamp
    if len(dt) == 0 or len(ts) == 0 or int(dt[-1]) < int(ts[0]) or int(dt[0]) > int(ts[-1]):
        raise DataError("detail candles outside the run", user_message=(
            f"--detail {detail_tf}: the {pair} {detail_tf} candles ({span(detail)}) do not overlap its "
            f"{timeframe} candles ({span(candles)}); choose --from/--to inside both"))


async def _run_pairs(args: argparse.Namespace, settings: Settings) -> int:
    """Backtest the pairs strategy: its two legs as one group through ``engine.step`` (pair_backtest)."""
    from trader.cli.pair_args import pair_run
    from trader.core.backtest.pair_backtest import run_pair_backtest

    for flag, given in (("--detail", args.detail), ("--funding-dir", args.funding_dir)):
        if given is not None:
            raise ArgError(f"{flag} does not apply to the pairs strategy (its legs close together on the "
                           "spread, not on stops inside a candle; funding is not charged)", USAGE)
    setup, timeframe, run_settings = pair_run(args, settings, _params(args.param), USAGE)
    first_ms = None if args.start is None else datetime_to_ms(args.start)
    end_ms = None if args.end is None else datetime_to_ms(args.end)
    if first_ms is not None and end_ms is not None and end_ms <= first_ms:
        raise ArgError("--to must be after --from", USAGE)
    load_from = None if first_ms is None else first_ms - setup.required_history * timeframe_ms(timeframe)
    loader = _store_loader(settings, args.exchange or settings.exchange.name) if args.source == "store" \
        else _file_loader(args.data_dir or SAMPLE_DIR)
    candles = {Symbol(p): await loader(Symbol(p), timeframe, load_from, end_ms) for p in (setup.y, setup.x)}
    result = run_pair_backtest(setup, candles, run_settings, trade_from_ms=first_ms)
    await _emit(args, settings, result, candles)
    return 0


async def _emit(args: argparse.Namespace, settings: Settings, result: BacktestResult,
                candles: dict[Symbol, CandleFrame]) -> None:
    """Print the report and write what the flags ask for (CSV, JSON, charts, a stored run)."""
    from trader.core.backtest.report import result_json, text_report, trades_csv
    from trader.services.backtest_runs import run_record

    kpis = result.kpis()
    print(text_report(result, kpis))
    if args.csv:
        _write(args.csv, trades_csv(result))
    if args.png:
        from trader.runtime.offline import chart_renderer

        title = f"{result.strategy} · {', '.join(result.pairs)} · {result.timeframe}"
        _write_bytes(args.png, chart_renderer().equity(result.equity, title=title))
    if args.png_trades:
        _write_trade_charts(args.png_trades, result, candles)
    if args.json:
        _write(args.json, result_json(result, kpis))
    if args.save:
        run_id = await _save(settings, run_record(result, kpis, datetime.now(UTC)))
        print(f"stored as backtest run {run_id}")


def _swap_terms(args: argparse.Namespace, settings: Settings) -> tuple[bool, FuturesTerms | None]:
    """Return (shorts allowed, perpetual terms) from the flags, else from the strategy's configuration."""
    entry = next((e for e in settings.strategies if e.name == args.strategy), None)
    configured = entry is not None and entry.market == "swap"
    leverage = args.leverage if args.leverage is not None else (entry.leverage if configured and entry else 1)
    if leverage < 1 or leverage > MAX_LEVERAGE:
        raise ArgError(f"--leverage must be 1..{MAX_LEVERAGE}, got {leverage}", USAGE)
    swap = args.short or args.leverage is not None or configured
    if not swap:
        return False, None
    allow_short = args.short or (configured and entry is not None and entry.allow_short)
    margin_mode = entry.margin_mode if configured and entry is not None else "isolated"
    return allow_short, FuturesTerms(Decimal(leverage), margin_mode)


def _write_trade_charts(path: Path, result: BacktestResult, candles: dict[Symbol, CandleFrame]) -> None:
    from trader.runtime.offline import chart_renderer
    from trader.services.backtest_chart import trade_chart

    renderer = chart_renderer()
    for pair in result.pairs:
        target = path if len(result.pairs) == 1 else \
            path.with_name(f"{path.stem}-{pair.replace('/', '_')}{path.suffix or '.png'}")
        _write_bytes(target, renderer.candles(trade_chart(result, candles[Symbol(pair)], pair)))


Loader = Callable[[Symbol, str, "int | None", "int | None"], Awaitable[CandleFrame]]


def _file_loader(data_dir: Path) -> Loader:
    async def load(pair: Symbol, timeframe: str, start_ms: int | None, end_ms: int | None) -> CandleFrame:
        return load_candles(data_dir, pair, timeframe, start_ms, end_ms)

    return load


def _store_loader(settings: Any, exchange: str) -> Loader:
    from trader.cli.data_cmd import market_data

    async def load(pair: Symbol, timeframe: str, start_ms: int | None, end_ms: int | None) -> CandleFrame:
        async with market_data(settings) as service:
            frame = await service.load(exchange, pair, timeframe,
                                       None if start_ms is None else ms_to_datetime(start_ms),
                                       None if end_ms is None else ms_to_datetime(end_ms))
        if len(frame) == 0:
            raise DataError(f"no stored {exchange} {pair} {timeframe} candles in the requested period",
                            user_message=f"No stored {pair} {timeframe} candles from {exchange} in that "
                                         f"period: import or fetch them with `tradebot data`")
        return frame

    return load


async def _save(settings: Any, run: BacktestRun) -> int:
    from trader.runtime.offline import open_store

    async with open_store(settings) as uow_factory, uow_factory() as uow:
        run_id = await uow.backtests.add(run)
        await uow.commit()
    return run_id


class _progress:  # noqa: N801 - used as a context manager like a function
    """A tqdm bar on stderr for long runs; a no-op callback otherwise."""

    def __init__(self, candles: int, quiet: bool) -> None:
        self.bar: Any = None
        if not quiet and candles >= _PROGRESS_MIN_CANDLES and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=1000, desc="backtest", unit="‰", file=sys.stderr, leave=False)

    def __enter__(self) -> Any:
        if self.bar is None:
            return None
        bar = self.bar

        def update(fraction: float) -> None:
            target = int(fraction * 1000)
            if target > bar.n:
                bar.update(target - bar.n)

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def load_candles(data_dir: Path, pair: Symbol, timeframe: str, start_ms: int | None,
                 end_ms: int | None) -> CandleFrame:
    """Return the pair's candles in [start, end) from ``data_dir``, resampling a finer file if needed."""
    import pandas as pd

    base, quote = split_symbol(pair)
    wanted = timeframe_ms(timeframe)
    options = sorted(((timeframe_ms(tf), tf, path) for tf in _TIMEFRAMES for path in
                      (data_dir / f"{base}_{quote}-{tf}.csv.gz", data_dir / f"{base}_{quote}-{tf}.csv")
                      if path.is_file() and wanted % timeframe_ms(tf) == 0), reverse=True)
    if not options:
        raise DataError(f"no candle file for {pair} {timeframe} (or a finer one) in {data_dir}",
                        user_message=f"No {pair} {timeframe} candles in {data_dir}: expected a file like "
                                     f"{base}_{quote}-{timeframe}.csv.gz")
    step, _, path = options[0]
    try:
        frame = CandleFrame.from_dataframe(pd.read_csv(path))
    except (ValueError, KeyError) as exc:
        message = f"{path.name} is not a valid candle file: {exc}"
        raise DataError(f"{path}: {exc}", user_message=message) from exc
    checked = check_candles(frame)
    if checked.bad:  # a zero or absurd price would crash the run far from its cause
        raise DataError(f"{path}: {checked.bad} rows break the candle sanity rules",
                        user_message=f"{path.name}: {checked.bad} bad rows (first at open time "
                                     f"{checked.first_bad_ms}); check it with `tradebot data import`")
    if step != wanted:
        frame = frame.resample(timeframe)
    ts = frame.timestamp
    lo = 0 if start_ms is None else int(ts.searchsorted(start_ms, side="left"))
    hi = len(frame) if end_ms is None else int(ts.searchsorted(end_ms, side="left"))
    if hi <= lo:
        raise DataError(f"no {pair} {timeframe} candles in the requested period ({path.name})")
    return frame.slice(lo, hi)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ArgError(f"cannot write {path}: {exc.strerror}", USAGE) from exc
    print(f"wrote {path}")


def _write_bytes(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise ArgError(f"cannot write {path}: {exc.strerror}", USAGE) from exc
    print(f"wrote {path}")


def _params(items: list[str]) -> dict[str, str]:
    params = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ArgError(f"--param {item!r} is not NAME=VALUE", USAGE)
        params[name.strip()] = value.strip()
    return params



def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a non-negative number")
    return value
