"""Shorts allowed on spot (``allow_short``): the compiled loop against the engine path it replaced.

A spot market cannot short, so the engine refuses each short signal (``shorting_unsupported``) after its
halt check; until the compiled loops took those steps too, any run with shorts allowed took the engine
path. One and two pairs of the bundled 1h candles (BTC/USDT, ETH/USDT), each strategy with
``RiskConfig()``'s defaults; prints the median of ``--runs`` and the ratio, and checks both paths agree
on trades and refusals. ``tradebot backtest --short`` trades perpetual swaps, which still take the
engine path (margin, funding, liquidation).
"""

from __future__ import annotations

import argparse
from functools import partial

from backtest_guards import timed  # bench/ is on sys.path

from trader.cli.backtest_cmd import SAMPLE_DIR, load_candles
from trader.core.backtest.api import run_backtest
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.ids import Symbol
from trader.core.strategies.registry import create

PAIRS = (Symbol("BTC/USDT"), Symbol("ETH/USDT"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    frames = {s: load_candles(SAMPLE_DIR, s, "1h", None, None) for s in PAIRS}
    print(f"{'pairs':<6} {'strategy':<20} {'path':<9} {'median s':>9} {'trades':>6} {'refused':>7} "
          f"{'x compiled':>10}")
    for count in (1, 2):
        candles = dict(list(frames.items())[:count])
        for name in ("breakout", "bollinger_reversion", "mtf_momentum"):
            strategy = create(name, {})
            settings = BacktestSettings(name, "1h", allow_short=True)
            run = partial(run_backtest, strategy, candles, settings)
            run()  # warm: numba cache, imports
            rows = [("compiled", *timed(run, args.runs)),
                    ("engine", *timed(partial(run, engine_path=True), 1))]
            base = rows[0][1]
            for path, seconds, result in rows:
                assert [(t.entry_time, t.exit_price, t.pnl) for t in result.trades] == \
                    [(t.entry_time, t.exit_price, t.pnl) for t in rows[0][2].trades], (name, path)
                assert result.stops == rows[0][2].stops
                print(f"{count:<6} {name:<20} {result.path.split(' ')[0]:<9} {seconds:>9.3f} "
                      f"{len(result.trades):>6} {result.stops.refused:>7} {seconds / base:>9.1f}x")


if __name__ == "__main__":
    main()
