"""`tradebot run` as a subprocess: the demo replay trades, exits cleanly, resumes; offline falls back."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from trader.adapters.store.sql.uow import Database

TRADEBOT = [sys.executable, "-m", "trader"]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADER_")}
    env.update(TRADER_DATABASE__URL=f"sqlite+aiosqlite:///{tmp_path / 'run.db'}", TRADER_OPS__HEALTH_PORT="0",
               TRADER_OPS__DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1", **extra)
    return env


def _run(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TRADEBOT, "run", *args], cwd=tmp_path, env=_env(tmp_path, **extra),
                          capture_output=True, text=True, timeout=180, check=False)


async def _store_counts(url: str) -> tuple[int, int]:
    db = Database.from_url(url)
    try:
        async with db.uow() as uow:
            positions = await uow.positions.unfinished() + await uow.positions.finished(limit=1000)
            fills = await uow.fills.since(datetime(2000, 1, 1, tzinfo=UTC))
        return len(positions), len(fills)
    finally:
        await db.dispose()


def test_replay_trades_logs_each_decision_and_exits_cleanly(tmp_path: Path) -> None:
    done = _run(tmp_path, "--replay", "--speed", "36000000", "--max-candles", "60")
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert "No Telegram token is configured" in done.stdout
    assert "signal enter long" in log and "order command(s) sent" in log
    assert "fill buy" in log and "opened long" in log
    assert "replay: stopped after 60 candle(s)" in log and "engine stopped" in log
    left = re.search(r"replay: stopped after 60 candle\(s\), \d+ fill\(s\); (\S+) candle\(s\) left", log)
    assert left is not None and re.fullmatch(r"\d{1,3}(,\d{3})+", left[1]), log[-500:]  # 19,453 as elsewhere
    positions, fills = asyncio.run(_store_counts(f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"))
    assert positions >= 1 and fills >= 1


def test_second_run_resumes_at_the_stored_cursor(tmp_path: Path) -> None:
    first = _run(tmp_path, "--replay", "--speed", "36000000", "--max-candles", "5")
    assert first.returncode == 0, first.stderr[-2000:]
    second = _run(tmp_path, "--replay", "--speed", "36000000", "--max-candles", "5")
    assert second.returncode == 0, second.stderr[-2000:]
    assert "replay starts at" in first.stderr and "replay resumes at" in second.stderr
    assert "restored from the store" in second.stderr


def test_unreachable_exchange_falls_back_to_replay_quickly(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on: connection refused at once
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = _run(tmp_path, "--max-candles", "3", "--speed", "36000000", "--probe-timeout", "3",
                TRADER_EXCHANGE__API_BASE_URL=f"http://127.0.0.1:{port}")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "is not reachable" in done.stderr and "falling back to REPLAY" in done.stderr
    assert "mode replay" in done.stderr


def test_live_mode_without_confirmation_exits_with_a_configuration_error(tmp_path: Path) -> None:
    done = _run(tmp_path, "--mode", "live")
    assert done.returncode == 2
    assert "exchange.live_confirmed" in done.stderr


def test_bad_speed_is_refused_with_the_usage_line(tmp_path: Path) -> None:
    done = _run(tmp_path, "--replay", "--speed", "0")
    assert done.returncode == 1 and "--speed must be positive" in done.stderr and "Usage:" in done.stderr


def test_sigint_stops_the_engine_gracefully(tmp_path: Path) -> None:
    proc = subprocess.Popen([*TRADEBOT, "run", "--replay", "--speed", "3600"], cwd=tmp_path,
                            env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line)
            if "engine started" in line:
                break
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, "".join(seen) + rest
    assert "engine stopped" in rest


def test_live_run_waits_out_a_venue_outage_at_start_up_and_stops_cleanly(tmp_path: Path) -> None:
    from tests.fakes.fake_exchange import API_KEY, API_SECRET, FakeExchange, Fault, FaultKind

    fake = FakeExchange.start_default()
    fake.venue.deposit("USDT", "10000")
    fake.inject(Fault(FaultKind.SERVER_ERROR, times=12))  # the venue answers nothing for a while
    env = _env(tmp_path, TRADER_EXCHANGE__MODE="live", TRADER_EXCHANGE__LIVE_CONFIRMED="true",
               TRADER_EXCHANGE__API_KEY=API_KEY, TRADER_EXCHANGE__API_SECRET=API_SECRET,
               TRADER_EXCHANGE__API_BASE_URL=fake.base_url, TRADER_EXCHANGE__MAX_RETRIES="0",
               TRADER_EXCHANGE__PAIRS='["BTC/USDT"]', TRADER_SCHEDULER__VENUE_RETRY_SECONDS="0.1",
               TRADER_SCHEDULER__VENUE_RETRY_MAX_SECONDS="0.5")
    proc = subprocess.Popen([*TRADEBOT, "run"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "engine started (scheduler) after waiting for the venue" in line:
                break
        else:
            raise AssertionError("the run ended before the venue answered:\n" + "".join(lines[-30:]))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, "".join(lines[-30:])
    finally:
        if proc.poll() is None:
            proc.kill()
        fake.stop()
    log = "".join(lines)
    assert "did not answer at start-up (attempt 1" in log and "Reconciliation:" in log
    assert fake.faults.pending() == 0
