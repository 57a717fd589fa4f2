"""A read-only, full or corrupt database and an unreachable PostgreSQL: one line saying what is wrong and
what to do, exit code 1, the data unchanged (they were 47 to 196-line tracebacks)."""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.unprivileged import Unprivileged
from trader.adapters.store import db as store_db
from trader.cli import main

SAMPLES = Path(__file__).resolve().parents[3] / "trader" / "data" / "sample"
ETH = str(SAMPLES / "ETH_USDT-1h.csv.gz")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line(stderr: str) -> str:
    """Return the error line; fail on a traceback or more than one line from the CLI's printer."""
    assert "Traceback" not in stderr, stderr[-3000:]
    lines = [line for line in stderr.splitlines() if line.strip() and " INFO " not in line]
    assert len(lines) == 1, stderr[-3000:]
    return lines[0]


def run_cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("TRADER_")}
    full.update(TRADER_OPS__DATA_DIR=str(cwd / "data"), TRADER_OPS__HEALTH_PORT="0", **env)
    return subprocess.run([sys.executable, "-m", "trader", *args], cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=180, check=False)


def test_corrupt_sqlite_file(tmp_path: Path) -> None:
    garbage = tmp_path / "trader.db"
    garbage.write_bytes(bytes(range(256)) * 400)
    before = digest(garbage)
    url = f"sqlite+aiosqlite:///{garbage}"
    for args in (("data", "list"), ("data", "import", ETH), ("db", "upgrade"),
                 ("run", "--replay", "--max-candles", "3")):
        done = run_cli(*args, cwd=tmp_path, TRADER_DATABASE__URL=url)
        assert done.returncode == 1, args
        line = one_line(done.stderr)
        assert "not a database (corrupt or overwritten)" in line and "restore it from a backup" in line, args
    assert digest(garbage) == before


def test_unreachable_postgresql(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on: connection refused at once
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/trader"
    for args in (("data", "list"), ("db", "upgrade"), ("run", "--replay", "--max-candles", "3")):
        done = run_cli(*args, cwd=tmp_path, TRADER_DATABASE__URL=url)
        assert done.returncode == 1, args
        line = one_line(done.stderr)
        assert f"database server at 127.0.0.1:{port} is not reachable" in line, args
        assert "start PostgreSQL or fix the host and port" in line


def test_full_disk_rolls_back_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "trader.db"
    monkeypatch.setenv("TRADER_DATABASE__URL", f"sqlite+aiosqlite:///{db}")
    assert main(["data", "import", str(SAMPLES / "BTC_USDT-1h.csv.gz")]) == 0
    with sqlite3.connect(db) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        stored = conn.execute("SELECT count(*) FROM candles").fetchone()[0]
    original = store_db._sqlite_on_connect

    def no_room(dbapi_connection: Any, record: Any) -> None:
        original(dbapi_connection, record)
        # SQLite's own limit on the file size: writes past it fail with SQLITE_FULL, as on a full disk
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 20}")

    monkeypatch.setattr(store_db, "_sqlite_on_connect", no_room)
    capsys.readouterr()
    assert main(["data", "import", ETH]) == 1
    line = one_line(capsys.readouterr().err)
    assert line.startswith("error: the disk holding the SQLite database is full: free space")
    assert "nothing was changed" in line
    monkeypatch.setattr(store_db, "_sqlite_on_connect", original)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM candles").fetchone()[0] == stored


@pytest.mark.slow
def test_read_only_sqlite_file_for_the_bot_user(unprivileged: Unprivileged) -> None:
    assert unprivileged.run("data", "import-samples").returncode == 0
    data = unprivileged.data
    for path in (data, *data.iterdir()):  # root's now, and read-only: the bot's user may only read
        os.chown(path, 0, 0)
        path.chmod(0o555 if path.is_dir() else 0o444)
    before = {p.name: digest(p) for p in data.iterdir()}
    try:
        for args in (("data", "import", ETH), ("db", "upgrade")):
            done = unprivileged.run(*args)
            assert done.returncode == 1, args
            line = one_line(done.stderr)
            assert "the SQLite database is read-only for this user: give the bot's user write access" in line
        done = unprivileged.run("run", "--replay", "--max-candles", "3")
        assert done.returncode == 1
        assert "permission denied for this user: give the bot's user access" in one_line(done.stderr)
        assert {p.name: digest(p) for p in data.iterdir()} == before
    finally:
        data.chmod(0o755)
