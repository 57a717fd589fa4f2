"""Backtest engine vs backtesting.py and vectorbt: same signals, same data, same costs.

Run: .venv/bin/python bench/backtest_peers.py [--runs N] [--quick] [--no-peers]

Ours runs three times: the compiled loop (``backtest.compiled``, the default of ``run_backtest`` where
it covers the run), the Decimal fast path (``compiled=False``: ``backtest.fast``) and the engine path
(``engine_path=True``: ``engine.step`` at every event); all three must give the same trades (checked
here too). Ratios are each engine's time / our compiled time. A breakdown of the compiled run
(signals, the compiled loop, the fills' money in exact fixed point and the equity curve; the trade
records with their Decimal money, built on first read and so outside the timed call) shows where its
time goes against the 5-10 ms floor of a compiled trade loop on precomputed signals.

Data: one year of seeded geometric-Brownian 1-minute candles (525,600; 60 % annual volatility, lognormal
volume) and the real BTC/USDT 1h series from ../shared/data (skipped with a note when absent).
Strategies (long only, one position, all-in, 0.1 % fee per side, no slippage):
- bollinger: our bollinger_reversion (regime filter off) with a 2 % stop and a 4 % take-profit;
- breakout: our breakout (regime filter off, no take-profit) with a 2 % stop and a 3 % trailing stop.
Our signals (computed once by the strategy) are fed to the peers, so the engines, not the indicator
code, are compared; our time includes computing them. Timed: the backtest call only (ours:
indicators + signals + simulation + result, whose trade records are built when first read, as
vectorbt builds its trade records when asked; peers: their run call on precomputed signals).
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TQDM_DISABLE", "1")  # backtesting.py's progress bars would flood the table

from trader.config.sections import RiskConfig, TrailingConfig  # noqa: E402
from trader.core.backtest.api import run_backtest  # noqa: E402
from trader.core.backtest.runner import BacktestSettings  # noqa: E402
from trader.core.domain.candles import CandleFrame  # noqa: E402
from trader.core.domain.ids import Symbol  # noqa: E402
from trader.core.sim.costs import FeeModel  # noqa: E402
from trader.core.strategies.base import SignalFrame  # noqa: E402
from trader.core.strategies.registry import create  # noqa: E402

REAL_1H = ROOT.parent / "shared" / "data" / "BTC_USDT-1h.csv.gz"  # ../shared/data beside the repository
PAIR = Symbol("BTC/USDT")
FEE = 0.001
CASH = 10_000.0
STOP, TAKE, TRAIL = 0.02, 0.04, 0.03


@dataclass(frozen=True)
class Case:
    name: str
    strategy: str
    params: dict[str, object]
    take_profit: bool
    trailing: bool


CASES = (
    Case("bollinger", "bollinger_reversion",
         {"stop_pct": STOP, "take_profit_pct": TAKE, "regime_filter": False}, True, False),
    Case("breakout", "breakout",  # take_profit_pct 5.0 = 500 %: no take-profit in practice
         {"stop_pct": STOP, "take_profit_pct": 5.0, "regime_filter": False}, False, True),
)


def risk_config(case: Case) -> RiskConfig:
    """All-in (98 % cap: a gap up to the next open must not starve the fill), guards out of the way."""
    trailing = TrailingConfig(enabled=case.trailing, distance=Decimal(str(TRAIL)), min_step=Decimal(0))
    return RiskConfig(sizing="all_in", max_position_pct=Decimal("0.98"), max_open_positions=1,
                      cooldown_minutes=0, cooldown_after_loss_minutes=0, max_trades_per_day=100_000,
                      daily_loss_limit_pct=Decimal(1), max_drawdown_pct=Decimal(1),
                      max_consecutive_stops=100_000, expected_slippage=Decimal(0), trailing=trailing)


def gbm_minutes(n: int = 525_600, seed: int = 7, vol: float = 0.6, start: float = 30_000.0) -> CandleFrame:
    """Return n seeded GBM 1-minute candles (open = previous close, wicks ~ |N|, lognormal volume)."""
    rng = np.random.default_rng(seed)
    sigma = vol / np.sqrt(525_600)
    close = start * np.exp(np.cumsum(rng.normal(-0.5 * sigma**2, sigma, n)))
    open_ = np.r_[start, close[:-1]]
    wick = np.abs(rng.normal(0, sigma * 0.6, (2, n)))
    high = np.round(np.maximum(open_, close) * (1 + wick[0]), 2)
    low = np.round(np.minimum(open_, close) * (1 - wick[1]), 2)
    open_, close = np.round(open_, 2), np.round(close, 2)
    ts = 1_672_531_200_000 + 60_000 * np.arange(n, dtype=np.int64)
    return CandleFrame(ts, open_, np.maximum(high, np.maximum(open_, close)),
                       np.minimum(low, np.minimum(open_, close)), close, rng.lognormal(3, 0.8, n))


CLOCK = time.perf_counter  # --cpu: time.process_time, steadier than wall time on a shared machine


def timed(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        gc.collect()
        t0 = CLOCK()
        out = fn()
        times.append(CLOCK() - t0)
    return statistics.median(times), out


# ── ours ─────────────────────────────────────────────────────────────────────────────────────
def ours(case: Case, candles: CandleFrame, timeframe: str, runs: int, *,
         path: str = "compiled") -> dict[str, object]:
    strategy = create(case.strategy, case.params)
    settings = BacktestSettings(case.strategy, timeframe, risk=risk_config(case),
                                fees=FeeModel.flat(Decimal(str(FEE))), start_balance=Decimal(int(CASH)))
    engine_path, compiled = path == "engine", path == "compiled"
    run_backtest(strategy, {PAIR: candles.slice(0, 5000)}, settings)  # JIT/cache warm-up, not timed
    seconds, result = timed(lambda: run_backtest(strategy, {PAIR: candles}, settings,
                                                 engine_path=engine_path, compiled=compiled), runs)
    kpi_seconds, _ = timed(result.kpis, 1)  # type: ignore[attr-defined]
    ts = candles.timestamp
    pairs = {(int(np.searchsorted(ts, int(t.entry_time.timestamp() * 1000), side="right")) - 1,
              int(np.searchsorted(ts, int(t.exit_time.timestamp() * 1000), side="right")) - 1)
             for t in result.trades}  # type: ignore[attr-defined]
    ret = result.end_equity / CASH - 1  # type: ignore[attr-defined]
    note = f"path {result.path}, steps={result.steps}, kpis {kpi_seconds:.3f}s"  # type: ignore[attr-defined]
    if compiled:
        note += "; " + breakdown(strategy, candles, settings, runs)
    return {"seconds": seconds, "trades": len(result.trades), "return": ret, "pairs": pairs,  # type: ignore[attr-defined]
            "note": note, "rows": trade_rows(result)}


def trade_rows(result: object) -> list[tuple[object, ...]]:
    return [(t.entry_time, t.exit_time, t.entry_price, t.exit_price, t.amount, t.fees, t.pnl, t.exit_reason)
            for t in result.trades]  # type: ignore[attr-defined]


def breakdown(strategy: object, candles: CandleFrame, settings: BacktestSettings, runs: int) -> str:
    """Return where a compiled run's time goes: signals, the loop, the fills' money + equity curve, and the
    trade records built on first read (ms)."""
    from trader.core.backtest import compiled
    from trader.core.backtest.markets import default_market

    market = default_market(PAIR, float(candles.close[0]))
    signal_s, signals = timed(lambda: strategy.compute(candles), runs)  # type: ignore[attr-defined]
    def run() -> object:
        return compiled.run_compiled(signals, candles, PAIR, market, settings, {}, {})  # type: ignore[arg-type]

    run_s, result = timed(run, runs)
    phases = {}
    loop, records = compiled._loop, compiled.book_trades

    def clocked(name: str, fn: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object) -> object:
            t0 = CLOCK()
            out = fn(*args)
            phases[name] = CLOCK() - t0
            return out
        return call

    compiled._loop, compiled.book_trades = clocked("loop", loop), clocked("records", records)  # type: ignore[assignment]
    try:
        run()
    finally:
        compiled._loop, compiled.book_trades = loop, records  # type: ignore[assignment]
    trades = len(result.trades)  # type: ignore[attr-defined]
    t0 = CLOCK()
    tuple(result.trades)  # type: ignore[attr-defined]  # the records, built on first read
    built = CLOCK() - t0
    return (f"compiled breakdown: signals {signal_s * 1e3:.0f} ms, compiled run {run_s * 1e3:.0f} ms (loop "
            f"{phases['loop'] * 1e3:.1f} ms, fills' money (exact fixed point) and equity curve "
            f"{phases['records'] * 1e3:.1f} ms = {phases['records'] / max(trades, 1) * 1e6:.2f} us/trade); "
            f"trade records with their Decimal money on first read (not timed above) {built * 1e3:.0f} ms = "
            f"{built / max(trades, 1) * 1e6:.1f} us/trade")


# ── backtesting.py ──────────────────────────────────────────────────────────────────────────
def backtesting_py(case: Case, candles: CandleFrame, signals: SignalFrame, runs: int) -> dict[str, object]:
    import warnings

    from backtesting import Backtest, Strategy

    warnings.filterwarnings("ignore")
    df = pd.DataFrame({"Open": candles.open, "High": candles.high, "Low": candles.low,
                       "Close": candles.close, "Volume": candles.volume},
                      index=pd.to_datetime(candles.timestamp, unit="ms"))
    enter, leave = signals.enter_long & ~signals.exit_long, signals.exit_long

    class Signals(Strategy):  # type: ignore[misc]
        def init(self) -> None:
            self.hw = 0.0

        def next(self) -> None:
            i = len(self.data) - 1
            if self.position:
                if case.trailing:
                    self.hw = max(self.hw, self.data.High[-1])
                    for trade in self.trades:
                        trade.sl = max(trade.sl or 0.0, self.hw * (1 - TRAIL))
                if leave[i]:
                    self.position.close()
            elif enter[i]:
                price = self.data.Close[-1]
                self.hw = price
                self.buy(sl=price * (1 - STOP), tp=price * (1 + TAKE) if case.take_profit else None)

    def run() -> object:
        # cash large enough that whole-unit sizing is ~all-in (backtesting.py trades whole units)
        bt = Backtest(df, Signals, cash=1e9, commission=FEE, finalize_trades=True)
        return bt.run()

    seconds, stats = timed(run, runs)
    trades = stats["_trades"]  # type: ignore[index]
    pairs = set(zip(trades["EntryBar"].astype(int), trades["ExitBar"].astype(int), strict=True))
    return {"seconds": seconds, "trades": len(trades), "return": stats["Return [%]"] / 100,  # type: ignore[index]
            "pairs": pairs, "note": "whole units, cash 1e9"}


# ── vectorbt ────────────────────────────────────────────────────────────────────────────────
def _import_vectorbt() -> object:
    import plotly.graph_objs as go

    original = go.layout.Template.__init__

    def lenient(self: object, arg: object = None, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("skip_invalid", True)  # vectorbt's theme names a trace type newer plotly dropped
        original(self, arg, *args, **kwargs)

    go.layout.Template.__init__ = lenient
    import vectorbt as vbt

    return vbt


def vectorbt(case: Case, candles: CandleFrame, signals: SignalFrame, runs: int) -> dict[str, object]:
    import numba

    vbt = _import_vectorbt()

    @numba.njit
    def fixed_plus_trailing(c, fixed, trail):  # type: ignore[no-untyped-def]
        level = max(c.init_price * (1 - fixed), c.curr_price * (1 - trail))
        return 1.0 - level / c.curr_price, True

    index = pd.to_datetime(candles.timestamp, unit="ms")
    # signals on close -> orders at the next open: shift by one candle and fill at the open
    enter = pd.Series(np.r_[False, (signals.enter_long & ~signals.exit_long)[:-1]], index=index)
    leave = pd.Series(np.r_[False, signals.exit_long[:-1]], index=index)
    kwargs: dict[str, object] = dict(
        close=pd.Series(candles.close, index=index), entries=enter, exits=leave,
        price=pd.Series(candles.open, index=index), open=candles.open, high=candles.high, low=candles.low,
        fees=FEE, init_cash=CASH, size=np.inf, sl_stop=STOP, freq=f"{timeframe_ms_to_min(candles)}min")
    if case.take_profit:
        kwargs["tp_stop"] = TAKE
    if case.trailing:
        kwargs.update(sl_trail=True, adjust_sl_func_nb=fixed_plus_trailing, adjust_sl_args=(STOP, TRAIL))
    head = {key: (value.iloc[:2000] if isinstance(value, pd.Series) else value[:2000]
                  if isinstance(value, np.ndarray) else value) for key, value in kwargs.items()}
    vbt.Portfolio.from_signals(**head)  # type: ignore[attr-defined]  # JIT warm-up, not timed
    seconds, pf = timed(lambda: vbt.Portfolio.from_signals(**kwargs), runs)  # type: ignore[attr-defined]
    records = pf.trades.records  # type: ignore[attr-defined]
    pairs = set(zip(records["entry_idx"].astype(int), records["exit_idx"].astype(int), strict=True))
    return {"seconds": seconds, "trades": len(records), "return": float(pf.total_return()),  # type: ignore[attr-defined]
            "pairs": pairs, "note": "signals shifted 1, price=open"}


def timeframe_ms_to_min(candles: CandleFrame) -> int:
    return int((candles.timestamp[1] - candles.timestamp[0]) // 60_000)


# ── the whole CLI process ───────────────────────────────────────────────────────────────────
def cli_process(case: Case, candles: CandleFrame, *, engine_path: bool = False) -> tuple[float, float]:
    """Return (wall seconds, peak RSS MB) of `tradebot backtest` on the 1-minute year written to CSV."""
    import backtest_process  # the process bench: the same inputs and timing

    with tempfile.TemporaryDirectory() as tmp:
        backtest_process.write_inputs(Path(tmp), candles)
        wall, _, rss = backtest_process.run_process(Path(tmp), case, engine_path=engine_path)
    return wall, rss


def compare(ours_pairs: set[tuple[int, int]], peer_pairs: set[tuple[int, int]]) -> str:
    same = len(ours_pairs & peer_pairs)
    ours_entries = {e: x for e, x in ours_pairs}
    peer_entries = {e: x for e, x in peer_pairs}
    common = set(ours_entries) & set(peer_entries)
    differs = [e for e in common if ours_entries[e] != peer_entries[e]]
    peer_later = sum(1 for e in differs if peer_entries[e] > ours_entries[e])
    on_entry_candle = sum(1 for e in differs if ours_entries[e] == e)
    return (f"{same}/{len(ours_pairs)} same entry+exit candle; same entry, other exit {len(differs)} "
            f"(peer later {peer_later}; ours stopped on the entry candle {on_entry_candle}); "
            f"entries only ours {len(set(ours_entries) - set(peer_entries))}, "
            f"only peer {len(set(peer_entries) - set(ours_entries))}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per engine (median reported)")
    parser.add_argument("--quick", action="store_true", help="30 days of minutes instead of a year")
    parser.add_argument("--no-peers", action="store_true", help="time this engine only")
    parser.add_argument("--cpu", action="store_true",
                        help="time with process CPU time, not wall time (a busy machine skews wall time)")
    args = parser.parse_args()
    if args.cpu:
        global CLOCK  # noqa: PLW0603 - one switch for every timed call of the run
        CLOCK = time.process_time
    datasets = [("1m", gbm_minutes(43_200 if args.quick else 525_600))]
    if REAL_1H.is_file():
        datasets.append(("1h", CandleFrame.from_dataframe(pd.read_csv(REAL_1H))))
    else:
        print(f"note: {REAL_1H} absent, real BTC/USDT 1h series skipped")
    rows, notes = [], []
    for timeframe, candles in datasets:
        for case in CASES:
            signals = create(case.strategy, case.params).compute(candles)
            results = {"ours compiled": ours(case, candles, timeframe, args.runs),
                       "ours fast": ours(case, candles, timeframe, args.runs, path="fast"),
                       "ours engine": ours(case, candles, timeframe, max(1, args.runs - 1), path="engine")}
            rows_of = [results[name]["rows"] for name in ("ours compiled", "ours fast", "ours engine")]
            same = rows_of[0] == rows_of[1] == rows_of[2]
            notes.append(f"ours {case.name} {timeframe}: compiled, fast and engine paths give "
                         f"{'the same trades' if same else 'DIFFERENT TRADES'}")
            if not args.no_peers:
                results["backtesting.py"] = backtesting_py(case, candles, signals, max(1, args.runs - 1))
                results["vectorbt"] = vectorbt(case, candles, signals, args.runs)
            mine = results["ours compiled"]
            for engine, res in results.items():
                times = float(res["seconds"]) / float(mine["seconds"])  # type: ignore[arg-type]
                ratio = "" if engine == "ours compiled" else f"{times:.2f}x"
                peer = not engine.startswith("ours")
                match = compare(mine["pairs"], res["pairs"]) if peer else ""  # type: ignore[arg-type]
                rows.append((engine, case.name, timeframe, f"{res['seconds']:.3f}",
                             f"{len(candles) / float(res['seconds']):,.0f}", str(res["trades"]),  # type: ignore[arg-type]
                             f"{float(res['return']) * 100:+.2f} %", ratio))  # type: ignore[arg-type]
                tail = f"; {match}" if match else ""
                notes.append(f"{engine} {case.name} {timeframe}: {res['note']}{tail}")
    header = ("engine", "strategy", "tf", "median s", "candles/s", "trades", "return", "time / ours compiled")
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    print()
    for note in notes:
        print(note)
    if not args.quick:
        for case in CASES:
            for engine_path in (False, True):
                seconds, rss = cli_process(case, datasets[0][1], engine_path=engine_path)
                path = "engine path" if engine_path else "compiled loop"
                print(f"tradebot backtest process, {case.name} 1m year, {path}: {seconds:.2f} s wall, "
                      f"peak RSS {rss:.0f} MB")
    print(resource_note())
    print(SEMANTICS)
    return 0


def resource_note() -> str:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return f"bench process peak RSS (all engines loaded): {peak:.0f} MB; cores: {os.cpu_count()}"


SEMANTICS = """\
Fill semantics behind systematic differences:
- ours: signal on close, market order at the next open; stop and take-profit are live from the entry
  candle on (a stop can fill on the entry candle); stop and target in one candle: the stop; trailing
  stop ratchets after the candle's stop check; sizing caps the position at 98 % of equity (next-open gaps).
- backtesting.py: same next-open entries; SL/TP are contingent orders checked from the entry bar; our
  trailing is replayed by raising trade.sl in next() (after the bar, like ours); whole-unit sizing.
- vectorbt: signals shifted one candle and filled at the open; it does not check stops on the entry
  candle and a stop hit overrides that candle's signals, so exits on entry candles land later ('ours
  stopped on the entry candle'); its sl_stop/tp_stop are fractions of the fill price (next open) while
  ours and backtesting.py's are prices from the signal close, which differ when the next open gaps
  (real data; the GBM series opens at the previous close); one different exit shifts every later
  entry ('entries only' counts)."""


if __name__ == "__main__":
    raise SystemExit(main())
