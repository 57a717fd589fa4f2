"""`tradebot backtest-pairs`: backtest the pairs statistical-arbitrage strategy on two pairs' candles.

The first pair is the y leg, the second the x leg (y ~ alpha + beta x on log closes). Prints a report:
return, drawdown, trades by side and exit, fees, the modelling assumptions (the short leg is modelled).
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any

from trader.cli.optimise_args import day, load_pair_candles

USAGE = ("tradebot backtest-pairs --pairs ETH/USDT,BTC/USDT [--timeframe 1h] [--to DAY] "
         "[--window 720] [--halflife 168] [--entry-z 3] [--exit-z 0.5] [--stop-z 5] [--leg-fraction 0.3] "
         "[--fee 0.001] [--slippage 0] [--balance 10000] [--engine] [--data-dir DIR]")


def register(sub: Any) -> None:
    """Add the `backtest-pairs` command."""
    from pathlib import Path

    p: argparse.ArgumentParser = sub.add_parser(
        "backtest-pairs", help="backtest pairs statistical arbitrage (two legs, hedge ratio beta)",
        usage=USAGE)
    p.add_argument("--pairs", required=True, help="the two legs, y then x: ETH/USDT,BTC/USDT")
    p.add_argument("--timeframe", help="candle timeframe, e.g. 1h (default: the configured one)")
    p.add_argument("--to", dest="end", type=day, help="end UTC day (exclusive), YYYY-MM-DD")
    p.add_argument("--window", type=int, default=720, help="rolling OLS window in candles")
    p.add_argument("--halflife", type=float, default=168.0, help="EWMA half-life of the spread, in candles")
    p.add_argument("--entry-z", type=float, default=3.0, help="enter when |z| reaches this")
    p.add_argument("--exit-z", type=float, default=0.5, help="exit when |z| is back inside this")
    p.add_argument("--stop-z", type=float, default=5.0, help="stop out when |z| reaches this")
    p.add_argument("--leg-fraction", type=Decimal, default=Decimal("0.3"),
                   help="notional of the y leg as a fraction of equity (x leg: beta times it)")
    p.add_argument("--fee", type=Decimal, default=Decimal("0.001"), help="fee per side (0.001 = 0.1 %%)")
    p.add_argument("--slippage", type=Decimal, default=Decimal(0), help="slippage per fill as a fraction")
    p.add_argument("--balance", type=Decimal, default=Decimal(10_000), help="start balance in the quote")
    p.add_argument("--engine", action="store_true",
                   help="run through engine.step and the simulator on perpetuals, the path replay and live "
                        "take (slower; the default loop models the short leg)")
    p.add_argument("--data-dir", type=Path, help="directory of CSV candle files (default: bundled samples)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from trader.config import load_settings
    from trader.core.backtest.pairs import PairSettings, run_pairs
    from trader.core.errors import ArgError
    from trader.core.strategies.pairs import PairParams

    settings = load_settings(args.config)
    args.start = None  # the whole history: the statistics warm up on its first window
    tf, candles = load_pair_candles(args, settings, USAGE)
    if len(candles) != 2:
        raise ArgError("--pairs needs exactly two pairs: the y leg, then the x leg", USAGE)
    (name_y, y), (name_x, x) = candles.items()
    params = PairParams(args.window, args.halflife, args.entry_z, args.exit_z, args.stop_z)
    if args.engine:
        return _run_engine(args, tf, (name_y, y), (name_x, x), params, settings.risk)
    result = run_pairs(y, x, params, PairSettings(args.balance, args.leg_fraction, args.fee, args.slippage),
                       (name_y, name_x))
    print("\n".join(report_lines(result, tf, params)))
    return 0


ENGINE_MODEL = ("model: engine.step over the simulator, as replay and live: signals on close, both legs as "
                "market orders at the next open on linear perpetuals at 1x (margin; funding not charged), "
                "amounts at each market's step, the configured risk section's guards")


def _run_engine(args: argparse.Namespace, tf: str, y: tuple[str, Any], x: tuple[str, Any],
                params: Any, risk: Any) -> int:
    from trader.core.backtest.pairs_engine import PairEngineSettings, as_pair_backtest, run_pairs_engine
    from trader.core.strategies.pair_setup import PairSetup
    from trader.core.strategies.pairs import aligned

    setup = PairSetup(y[0], x[0], params, args.leg_fraction)
    settings = PairEngineSettings(tf, args.balance, fee=args.fee, slippage=args.slippage, risk=risk)
    run = run_pairs_engine(y[1], x[1], setup, settings)
    stamps = aligned(y[1], x[1])[0].timestamp
    result = as_pair_backtest(run, (y[0], x[0]), stamps, args.balance)
    print("\n".join(report_lines(result, tf, params, model=ENGINE_MODEL)))
    return 0


def report_lines(result: Any, timeframe: str, params: Any, *, model: str = "") -> list[str]:
    """Return the report of a pairs backtest as lines (money in the legs' quote currency)."""
    from trader.core.domain.candles import ms_to_datetime
    from trader.core.formatting import money, percent, ratio

    trades = result.trades
    quote = result.symbols[0].partition("/")[2]
    wins = [t for t in trades if t.pnl > 0]
    fees = sum((t.fees for t in trades), Decimal(0))
    gained = sum((t.pnl for t in wins), Decimal(0))
    lost = -sum((t.pnl for t in trades if t.pnl <= 0), Decimal(0))
    factor = gained / lost if lost else None
    no_factor = "no losing trades" if wins else "no winning or losing trades"
    start, end = ms_to_datetime(int(result.timestamps[0])), ms_to_datetime(int(result.timestamps[-1]))
    ret = result.end_equity / float(result.start_balance) - 1
    reasons = {r: sum(t.reason == r for t in trades) for r in ("target", "stop", "end_of_data")}
    win_rate = len(wins) / len(trades) if trades else None
    lines = [
        f"Backtest pairs · {result.symbols[0]} vs {result.symbols[1]} · {timeframe}",
        f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC ({len(result.equity):,} candles)",
        f"Equity {money(result.start_balance)} → {money(result.end_equity, quote)} (return {percent(ret)}) · "
        f"max drawdown {percent(result.max_drawdown, sign=False)}",
        f"Trades {len(trades)} (long spread {sum(t.side > 0 for t in trades)}, short spread "
        f"{sum(t.side < 0 for t in trades)}) · win rate "
        f"{percent(win_rate, sign=False, digits=1, why='no trades')} · "
        f"profit factor {ratio(factor, why=no_factor)} · fees {money(fees, quote)}",
        "Exits: " + ", ".join(f"{k} {v}" for k, v in reasons.items()),
        f"Groups that failed to open (unwound): {result.failed_groups}",
        f"parameters: window {params.window}, halflife {params.halflife:g}, entry z {params.entry_z:g}, "
        f"exit z {params.exit_z:g}, stop z {params.stop_z:g}",
        model or "model: signals on close, both legs at the next open; the short leg is a modelled short "
        "(spot cannot short: margin or perpetuals needed; borrow and funding not charged); legs sized y = "
        "leg fraction x equity, x = beta x that",
    ]
    return lines
