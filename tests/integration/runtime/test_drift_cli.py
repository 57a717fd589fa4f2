"""`tradebot drift` as a subprocess on the account `tradebot run --replay` made from the bundled candles."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

TRADEBOT = [sys.executable, "-m", "trader"]


def _tradebot(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADER_")}
    env.update(TRADER_DATABASE__URL=f"sqlite+aiosqlite:///{tmp_path / 'run.db'}", TRADER_OPS__HEALTH_PORT="0",
               TRADER_OPS__DATA_DIR=str(tmp_path / "data"), TRADER_STRATEGIES='[{"name": "breakout"}]',
               PYTHONUNBUFFERED="1")
    return subprocess.run([*TRADEBOT, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def test_drift_of_a_replayed_account_then_of_a_fill_moved_by_hand(tmp_path: Path) -> None:
    # the replay starts shortly before breakout's first signal: 120 candles hold at least one round trip
    run = _tradebot(tmp_path, "run", "--replay", "--speed", "36000000", "--max-candles", "120")
    assert run.returncode == 0, run.stderr[-3000:]
    clean = _tradebot(tmp_path, "drift", "--replay", "--all")
    assert clean.returncode == 0, clean.stdout + clean.stderr[-3000:]
    matched = re.search(r"(\d+) matched, 0 missing, 0 extra; 0 logic differences", clean.stdout)
    assert matched is not None and int(matched.group(1)) >= 1, clean.stdout
    assert "[same] matched" in clean.stdout and "backtest:" in clean.stdout and "account :" in clean.stdout

    with sqlite3.connect(tmp_path / "run.db") as db:
        row_id, ts = db.execute("SELECT id, ts FROM fills WHERE side = 'sell' ORDER BY ts").fetchone()
        later = datetime.fromisoformat(ts) + timedelta(hours=2)
        db.execute("UPDATE fills SET ts = ? WHERE id = ?", (later.isoformat(sep=" "), row_id))
    moved = _tradebot(tmp_path, "drift", "--replay", "--alert")
    assert moved.returncode == 1, moved.stdout + moved.stderr[-3000:]  # a decision differs
    assert "1 logic difference" in moved.stdout and "(exit time)" in moved.stdout
    with sqlite3.connect(tmp_path / "run.db") as db:
        queued = db.execute("SELECT kind, text FROM alert_outbox WHERE kind = 'drift'").fetchall()
    assert len(queued) == 1 and "1 trade(s) differ" in queued[0][1]


def test_a_bad_since_date_is_refused(tmp_path: Path) -> None:
    done = _tradebot(tmp_path, "drift", "--since", "01/03/2024")
    assert done.returncode != 0 and "YYYY-MM-DD" in done.stderr
