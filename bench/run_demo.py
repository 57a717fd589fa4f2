"""Time to first trade of `tradebot run` (the `make run` command) and the replay cost per candle.

Runs the real command in a subprocess over a fresh temp SQLite file (bundled samples imported on the
way), once as `tradebot run --replay` and once as plain `tradebot run` with the exchange pointed at a
closed local port (the no-network path: probe, fallback message, replay), and reads the wall time at
which each milestone line appeared. Then replays 500 candles as fast as possible for the per-candle
cost (two strategies on two pairs: feed, ticks, monitor, equity and cursor writes).

Usage: .venv/bin/python bench/run_demo.py
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MILESTONES = {
    "runtime built": "runtime built",
    "engine started": "engine started",
    "first entry signal": "signal enter long",
    "first fill": ": fill buy",
    "position opened": "opened long",
}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(folder: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADER_")}
    env.update(TRADER_DATABASE__URL=f"sqlite+aiosqlite:///{folder / 'bench.db'}", TRADER_OPS__HEALTH_PORT="0",
               TRADER_OPS__DATA_DIR=str(folder / "data"), PYTHONUNBUFFERED="1", **extra)
    return env


def milestones(args: list[str], **extra: str) -> dict[str, float]:
    """Run `tradebot run ARGS` until the first position opens; return seconds to each milestone."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "trader", "run", *args], cwd=folder,
                                env=_env(folder, **extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        seen: dict[str, float] = {}
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                for name, marker in MILESTONES.items():
                    if name not in seen and marker in line:
                        seen[name] = time.perf_counter() - started
                if "position opened" in seen or time.perf_counter() - started > 120:
                    break
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        return seen


def per_candle(candles: int = 500) -> tuple[float, int]:
    """Return (milliseconds per replayed candle, fills) for ``candles`` candles at unlimited speed."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        done = subprocess.run([sys.executable, "-m", "trader", "run", "--replay", "--speed", "1e12",
                               "--max-candles", str(candles)], cwd=folder, env=_env(folder),
                              capture_output=True, text=True, check=True)
        log = done.stdout + done.stderr
        times = [_seconds(line) for line in log.splitlines() if "replay: " in line
                 and ("candle(s) from" in line or "stopped after" in line)]
        fills = int(re.findall(r"stopped after \d+ candle\(s\), (\d+) fill", log)[0])
        return (times[-1] - times[0]) * 1000 / candles, fills


def _seconds(line: str) -> float:
    stamp = line.split(" INFO", maxsplit=1)[0].split(",")
    hms = stamp[0].split(" ")[-1].split(":")
    return int(hms[0]) * 3600 + int(hms[1]) * 60 + int(hms[2]) + int(stamp[1]) / 1000


def main() -> int:
    runs = {
        "tradebot run --replay": milestones(["--replay"]),
        "tradebot run (offline: probe 5 s)": milestones([], TRADER_EXCHANGE__API_BASE_URL=(
            f"http://127.0.0.1:{_closed_port()}")),
    }
    print(f"{'command':<36}" + "".join(f"{name:>20}" for name in MILESTONES))
    for command, seen in runs.items():
        cells = "".join(f"{seen[name]:>19.1f}s" if name in seen else f"{'-':>20}" for name in MILESTONES)
        print(f"{command:<36}{cells}")
    ms, fills = per_candle()
    print(f"\nreplay cost: {ms:.1f} ms per 1h candle (2 strategies x 2 pairs, 500 candles, {fills} fills); "
          f"the default speed gives each candle 1000 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
