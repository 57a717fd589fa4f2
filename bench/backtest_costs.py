"""Where a backtest's time goes, per trade: the decision path (``engine.step``) by event kind, the runner's
bookkeeping around it, signals and the result, against the per-trade budget the speed targets allow.

Run: .venv/bin/python bench/backtest_costs.py [--runs N] [--quick]

Same data and cases as bench/backtest_peers.py (the seeded 1-minute GBM year, all-in, 0.1 % fee). The
backtest calls ``engine.step`` only at event candles (about four per trade: entry decision, entry fill,
exit decision, exit fill), so Python work scales with trades; this table shows what one trade costs and
why: the step row is the same code paper and live trading run. Each step call is timed separately, which
adds about a microsecond per call to the ``step`` rows; ``runner`` is the rest of the simulation (the
ledger, the event queue, Decimal conversions, equity marks, the exit-search kernel).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backtest_peers import CASES, CASH, FEE, PAIR, Case, gbm_minutes, risk_config

from trader.core.backtest import api, runner
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.candles import CandleFrame
from trader.core.engine.inputs import StepInput, StepOutput
from trader.core.engine.state import EngineState
from trader.core.positions.state import PositionStatus
from trader.core.sim.costs import FeeModel
from trader.core.strategies.registry import create

TARGET_S = {"breakout": 0.1, "bollinger": 0.25}  # the targets for the backtest call
KINDS = ("entry decision", "entry fill", "exit decision", "exit fill", "other")


def kind(state: EngineState, inp: StepInput) -> str:
    """Classify a step call by what it processes (the four events of a trade)."""
    pending = any(p.status is PositionStatus.PENDING_ENTRY for p in state.positions.values())
    if inp.order_updates:
        return "entry fill" if pending else "exit fill"
    if inp.signals:
        return "exit decision" if state.positions else "entry decision"
    return "other"


class Meter:
    """Times each phase of ``run_backtest`` and each ``engine.step`` call by kind (patched in, bench only)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._step = runner.step
        self._phases = {name: getattr(api, name) for name in ("compute_signals", "simulate", "build_result")}

    def install(self) -> None:
        runner.step = self._timed_step  # type: ignore[assignment]
        for name, fn in self._phases.items():
            setattr(api, name, self._timed(name, fn))

    def _timed_step(self, state: EngineState, inp: StepInput) -> StepOutput:
        label = kind(state, inp)
        started = time.perf_counter()
        out = self._step(state, inp)
        self.seconds[label] += time.perf_counter() - started
        self.calls[label] += 1
        return out

    def _timed(self, name: str, fn):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started
        return wrapper

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()


def measure(case: Case, candles: CandleFrame, runs: int, meter: Meter) -> dict[str, float]:
    """Return the median of each measured quantity over ``runs`` backtests of ``case``."""
    strategy = create(case.strategy, case.params)
    settings = BacktestSettings(case.strategy, "1m", risk=risk_config(case),
                                fees=FeeModel.flat(Decimal(str(FEE))), start_balance=Decimal(int(CASH)))
    api.run_backtest(strategy, {PAIR: candles.slice(0, 5000)}, settings)  # JIT/cache warm-up
    samples: dict[str, list[float]] = defaultdict(list)
    for _ in range(runs):
        meter.reset()
        gc.collect()
        started = time.perf_counter()
        result = api.run_backtest(strategy, {PAIR: candles}, settings)
        samples["total"].append(time.perf_counter() - started)
        step_total = sum(meter.seconds[k] for k in KINDS)
        samples["step"].append(step_total)
        samples["runner"].append(meter.seconds["simulate"] - step_total)
        for name in ("compute_signals", "build_result"):
            samples[name].append(meter.seconds[name])
        for label in KINDS:
            if meter.calls[label]:
                samples[f"us {label}"].append(meter.seconds[label] / meter.calls[label] * 1e6)
        samples["steps"].append(sum(meter.calls[k] for k in KINDS))
        samples["trades"].append(len(result.trades))
    return {key: statistics.median(values) for key, values in samples.items()}


# Phases of a fresh `tradebot backtest` process, in the order the command runs them (a child process,
# so imports and numba's one-off start-up are cold as they are for a user).
PHASES = """
import json, sys, time
started = time.perf_counter(); marks = {}
def mark(name):
    global started
    now = time.perf_counter(); marks[name] = now - started; started = now
from decimal import Decimal
from pathlib import Path
from trader.cli.backtest_cmd import load_candles
from trader.core.backtest.api import run_backtest
from trader.core.backtest.report import text_report
from trader.core.backtest.runner import BacktestSettings
from trader.config.sections import RiskConfig
from trader.core.domain.ids import Symbol
from trader.core.sim.costs import FeeModel
from trader.core.strategies.registry import create
mark("imports")
candles = load_candles(Path(sys.argv[1]), Symbol("BTC/USDT"), "1m", None, None)
mark("read CSV")
strategy = create("bollinger_reversion", {"regime_filter": False})
settings = BacktestSettings("bollinger_reversion", "1m", risk=RiskConfig(sizing="all_in"),
                            fees=FeeModel.flat(Decimal("0.001")))
run_backtest(strategy, {Symbol("BTC/USDT"): candles.slice(0, 3000)}, settings)
mark("numba start-up (first kernel calls)")
result = run_backtest(strategy, {Symbol("BTC/USDT"): candles}, settings)
mark("backtest call")
text_report(result, result.kpis())
mark("KPIs and report")
print(json.dumps(marks))
"""


def process_phases(candles: CandleFrame) -> dict[str, float]:
    """Return seconds per phase of a fresh process doing what `tradebot backtest` does (bollinger)."""
    with tempfile.TemporaryDirectory() as tmp:
        candles.to_dataframe().to_csv(Path(tmp) / "BTC_USDT-1m.csv", index=False)
        root = Path(__file__).resolve().parents[1]
        out = subprocess.run([sys.executable, "-c", PHASES, tmp], cwd=root, capture_output=True, text=True,
                             check=True).stdout
    phases: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return phases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per case (medians reported)")
    parser.add_argument("--quick", action="store_true", help="30 days of minutes instead of a year")
    args = parser.parse_args()
    candles = gbm_minutes(43_200 if args.quick else 525_600)
    meter = Meter()
    meter.install()
    rows = {case.name: measure(case, candles, args.runs, meter) for case in CASES}
    print(f"{len(candles):,} one-minute candles, median of {args.runs} runs; µs are per call or per trade\n")
    print(f"{'':28}" + "".join(f"{name:>14}" for name in rows))
    lines: list[tuple[str, str]] = [
        ("trades", "{trades:,.0f}"), ("engine.step calls per trade", "{steps_per_trade:.2f}"),
        ("backtest call, s", "{total:.3f}"), ("  signals (vectorised), s", "{compute_signals:.3f}"),
        ("  engine.step, s", "{step:.3f}"), ("  runner bookkeeping, s", "{runner:.3f}"),
        ("  result and KPIs, s", "{build_result:.3f}"),
        *[(f"  step µs: {label}", f"{{us {label}:.1f}}") for label in KINDS[:4]],
        ("µs per trade, all in", "{us_trade:.0f}"), ("  of which engine.step", "{us_trade_step:.0f}"),
        ("target for the call, s", "{target:.2f}"), ("µs per trade the target allows", "{budget:.0f}"),
        ("over the target", "{over:.1f}×"),
    ]
    if args.quick:  # the targets are for the whole year
        lines = [line for line in lines if "target" not in line[0]]
    for row, case_name in ((rows[c.name], c.name) for c in CASES):
        trades = max(row["trades"], 1)
        row["steps_per_trade"] = row["steps"] / trades
        row["us_trade"] = (row["total"] - row["compute_signals"]) / trades * 1e6
        row["us_trade_step"] = row["step"] / trades * 1e6
        row["target"] = TARGET_S[case_name]
        row["budget"] = max(TARGET_S[case_name] - row["compute_signals"], 0) / trades * 1e6
        row["over"] = row["total"] / TARGET_S[case_name]
    for label, template in lines:
        cells = []
        for row in rows.values():
            try:
                cells.append(template.format(**row))
            except KeyError:  # a kind of step that did not occur
                cells.append("—")
        print(f"{label:28}" + "".join(f"{cell:>14}" for cell in cells))
    phases = process_phases(candles)
    print("\nA fresh process doing what `tradebot backtest` does (bollinger, default risk), s:")
    for name, seconds in phases.items():
        print(f"  {name:<38}{seconds:8.3f}")
    print(f"  {'total':<38}{sum(phases.values()):8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
