"""`tradebot check-bias`: check a strategy for look-ahead and warm-up bias on stored candles.

Exit code 0 when every pair passes, 3 when a check finds bias (1 stays for bad input, as elsewhere).
"""

from __future__ import annotations

import argparse
from typing import Any

from trader.cli.optimise_args import add_data_args, assignments, load_pair_candles, positive_int
from trader.core.domain.candles import datetime_to_ms

USAGE = ("tradebot check-bias --strategy NAME [--pairs BTC/USDT] [--timeframe 1h] [--param NAME=VALUE ...] "
         "[--from DAY] [--to DAY] [--cuts 6] [--samples 30] [--target 1000] [--seed 0] [--data-dir DIR]")
BIAS_FOUND = 3


def register(sub: Any) -> None:
    """Add the `check-bias` command."""
    p: argparse.ArgumentParser = sub.add_parser(
        "check-bias", help="detect look-ahead and warm-up (recursive indicator) bias in a strategy",
        usage=USAGE)
    add_data_args(p)
    p.add_argument("--cuts", type=positive_int, default=6, help="prefix lengths compared with the whole")
    p.add_argument("--samples", type=positive_int, default=30, help="rows checked through the live latest()")
    p.add_argument("--target", type=positive_int, default=1000,
                   help="last rows compared in the warm-up check")
    p.add_argument("--seed", type=int, default=0, help="seed of the live-row sample")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from trader.config import load_settings
    from trader.core.optimise.bias import check_lookahead, check_warmup
    from trader.core.strategies.registry import create

    settings = load_settings(args.config)
    tf, candles = load_pair_candles(args, settings, USAGE)
    strategy = create(args.strategy, assignments(args.param, "--param", USAGE))
    passed = True
    for pair, loaded in candles.items():
        first = 0 if args.start is None else int(loaded.timestamp.searchsorted(datetime_to_ms(args.start)))
        frame = loaded.slice(first)
        history = strategy.required_history
        print(f"check-bias {strategy.name} · {pair} · {tf} · {len(frame):,} candles · "
              f"required_history {history:,}")
        look = check_lookahead(strategy, frame, cuts=args.cuts, samples=args.samples, seed=args.seed)
        warm = check_warmup(strategy, frame, target=min(args.target, len(frame) - history))
        print("\n".join(_lookahead_lines(look) + _warmup_lines(warm)))
        passed &= look.passed and warm.passed
    print(f"result: {'PASS' if passed else 'BIAS FOUND'}")
    return 0 if passed else BIAS_FOUND


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _lookahead_lines(r: Any) -> list[str]:
    lines = [f"  look-ahead: {len(r.cuts)} prefixes, {r.rows_compared:,} rows compared with the whole "
             f"history, {r.rows_differing:,} differ  {_verdict(r.rows_differing == 0)}"]
    lines += [f"    {_example(d)}" for d in r.examples]
    lines.append(f"  live latest() vs vectorised: {r.live_rows} sampled rows, {r.live_differing} differ  "
                 f"{_verdict(r.live_differing == 0)}")
    lines += [f"    {_example(d)}" for d in r.live_examples]
    return lines


def _warmup_lines(r: Any) -> list[str]:
    lines = [f"  warm-up: last {r.target_rows:,} rows computed with N candles of history "
             "(full history = reference)",
             "     history  rows differing"]
    for step in r.steps:
        mark = "  <- required_history" if step.history == r.required_history else ""
        lines.append(f"    {step.history:>8,}  {step.rows_differing:>14,}{mark}")
    agreed = r.agrees_from
    where = f"from {agreed:,} candles of history" if agreed is not None else "at no tested history length"
    lines.append(f"  signals agree with the full history {where}; required_history is "
                 f"{r.required_history:,}  {_verdict(r.passed)}")
    return lines


def _example(d: Any) -> str:
    from trader.core.domain.candles import ms_to_datetime

    return f"{ms_to_datetime(d.timestamp):%Y-%m-%d %H:%M} {d.column}: {d.reference!r} (whole) vs {d.other!r}"
