"""The whole `tradebot backtest` process on the 1-minute year: wall time, CPU time and peak RSS.

Run: .venv/bin/python bench/backtest_process.py [--runs N] [--engine-path] [--imports]

The year is backtest_peers' seeded GBM series (525,600 candles), written to CSV once; each strategy of
backtest_peers (bollinger, breakout: all-in, 0.1 % fee, guards out of the way) then runs N times as a
fresh process (interpreter start, imports, numba's start-up from its disk cache, CSV read, run, KPIs,
report), timed by GNU time: wall seconds, user+system CPU seconds and peak RSS. One untimed run first
fills numba's cache. Prints the median and the best of N; the issue's targets: under 3 s, under 500 MB.
CPU seconds are the steadier figure on a shared machine: wall time also counts waiting for a core.
--imports adds one bollinger process under ``-X importtime``: import time per top-level package.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import backtest_peers as peers  # noqa: E402 - the bench's own data and strategy settings


def write_inputs(folder: Path, candles: object) -> None:
    """Write the candles as ``BTC_USDT-1m.csv`` and one config per case (``<case>.toml``) in ``folder``."""
    candles.to_dataframe().to_csv(folder / "BTC_USDT-1m.csv", index=False)  # type: ignore[attr-defined]
    for case in peers.CASES:
        risk = peers.risk_config(case)
        lines = ["[risk]", f'sizing = "{risk.sizing}"']
        for key in ("max_position_pct", "max_open_positions", "cooldown_minutes",
                    "cooldown_after_loss_minutes", "max_trades_per_day", "daily_loss_limit_pct",
                    "max_drawdown_pct", "max_consecutive_stops", "expected_slippage"):
            value = getattr(risk, key)
            lines.append(f'{key} = "{value}"' if isinstance(value, Decimal) else f"{key} = {value}")
        lines += ["[risk.trailing]", f"enabled = {str(case.trailing).lower()}", f'distance = "{peers.TRAIL}"',
                  'min_step = "0"', "[backtest]", f'fee = "{peers.FEE}"']
        (folder / f"{case.name}.toml").write_text("\n".join(lines) + "\n")


def run_process(folder: Path, case: peers.Case, *, engine_path: bool = False,
                extra_env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Run `tradebot backtest` once on ``folder``'s inputs: (wall s, user+system CPU s, peak RSS MB)."""
    params = [arg for k, v in case.params.items() for arg in ("--param", f"{k}={v}")]
    script = ROOT / ".venv" / "bin" / "tradebot"  # a worktree has no venv: the module, same code
    program = [str(script)] if script.exists() else [sys.executable, "-m", "trader"]
    cmd = [*program, "--config", str(folder / f"{case.name}.toml"), "backtest",
           "--strategy", case.strategy, "--pairs", "BTC/USDT", "--timeframe", "1m",
           "--data-dir", str(folder), "--quiet", *params, *(["--engine-path"] if engine_path else [])]
    # GNU time measures the exec'd process itself; a forked child's ru_maxrss would include the
    # pages it shared with this (large) bench process before exec.
    timer = ["/usr/bin/time", "-f", "TIMED %e %U %S %M"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(extra_env or {})}
    proc = subprocess.run([*timer, *cmd], cwd=folder, capture_output=True, text=True, check=False, env=env)
    if extra_env:
        (folder / "stderr.txt").write_text(proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"tradebot backtest failed: {proc.stderr or proc.stdout}")
    if "simulation: compiled" not in proc.stdout and not engine_path:
        raise RuntimeError(f"the compiled loop did not run:\n{proc.stdout}")
    _, wall, user, system, kbytes = next(
        line for line in proc.stderr.splitlines() if line.startswith("TIMED ")).split()
    return float(wall), float(user) + float(system), float(kbytes) / 1024


def import_times(folder: Path) -> str:
    """Return one bollinger process's import time (``-X importtime``, all threads) per top-level package."""
    run_process(folder, peers.CASES[0], extra_env={"PYTHONPROFILEIMPORTTIME": "1"})
    own: collections.Counter[str] = collections.Counter()
    for line in (folder / "stderr.txt").read_text().splitlines():
        if line.startswith("import time:") and "self [us]" not in line:
            self_us, _, name = line[len("import time:"):].split("|")
            own[name.strip().split(".")[0]] += int(self_us)
    parts = ", ".join(f"{name} {us / 1e3:.0f}" for name, us in own.most_common(10))
    return f"imports (ms, self time by package, -X importtime): total {sum(own.values()) / 1e3:.0f}; {parts}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed processes per strategy (median reported)")
    parser.add_argument("--engine-path", action="store_true", help="time `--engine-path` runs instead")
    parser.add_argument("--imports", action="store_true", help="also print import time per package")
    args = parser.parse_args()
    if not Path("/usr/bin/time").exists():
        raise SystemExit("needs GNU time (/usr/bin/time)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_inputs(folder, peers.gbm_minutes())
        path = "engine path" if args.engine_path else "compiled loop"
        print(f"tradebot backtest, 1m GBM year (525,600 candles), {path}, {args.runs} processes each; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        for case in peers.CASES:
            run_process(folder, case, engine_path=args.engine_path)  # fills numba's cache, not timed
            runs = [run_process(folder, case, engine_path=args.engine_path) for _ in range(args.runs)]
            wall, cpu, rss = (sorted(column) for column in zip(*runs, strict=True))
            print(f"{case.name:<10} wall median {statistics.median(wall):.2f} s (best {wall[0]:.2f}), "
                  f"CPU median {statistics.median(cpu):.2f} s (best {cpu[0]:.2f}), "
                  f"peak RSS {rss[-1]:.0f} MB")
        if args.imports:
            print(import_times(folder))
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
