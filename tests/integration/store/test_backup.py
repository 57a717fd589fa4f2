"""`tradebot db backup` / `db restore` on real SQLite files and real PostgreSQL databases."""

from __future__ import annotations

import fcntl
import gzip
import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trader.adapters.ops.secret_store import generate_key
from trader.adapters.store.backup import MAGIC, SqlDatabaseBackup
from trader.cli import main

ROWS = 6


def candles_in(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM candles").fetchone()[0])


def import_candles(workdir: Path, count: int = ROWS) -> None:
    source = workdir / "BTC_USDT-1h.csv.gz"
    rows = ["timestamp,open,high,low,close,volume"] + [
        f"{1_704_067_200_000 + i * 3_600_000},100,110,90,105,{i + 1}" for i in range(count)]
    source.write_bytes(gzip.compress("\n".join(rows).encode()))
    assert main(["data", "import", str(source)]) == 0


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRADER_DATABASE__URL", "sqlite+aiosqlite:///./data/trader.db")
    return tmp_path


def use_db(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setenv("TRADER_DATABASE__URL", f"sqlite+aiosqlite:///{path}")


def only_backup(folder: Path) -> Path:
    files = sorted(folder.iterdir())
    assert len(files) == 1, files
    return files[0]


def test_sqlite_backup_then_restore_into_an_empty_database(workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    import_candles(workdir)
    assert main(["db", "backup", "--to", "bk"]) == 0
    made = only_backup(workdir / "bk")
    assert made.name.startswith("trader-") and made.name.endswith(".db")
    assert f"bk/{made.name} (" in capsys.readouterr().out
    use_db(monkeypatch, workdir / "restored" / "trader.db")
    assert main(["db", "restore", str(made)]) == 0
    assert "restored" in capsys.readouterr().out
    assert candles_in(workdir / "restored" / "trader.db") == ROWS


def test_restore_refuses_a_database_with_data_unless_forced(workdir: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    import_candles(workdir, 3)
    assert main(["db", "backup", "old.db"]) == 0
    import_candles(workdir, ROWS)  # the live database moves on
    assert main(["db", "restore", "old.db"]) == 1
    assert "already holds a database" in capsys.readouterr().err
    assert candles_in(workdir / "data" / "trader.db") == ROWS  # unchanged
    assert main(["db", "restore", "old.db", "--force"]) == 0
    assert candles_in(workdir / "data" / "trader.db") == 3


@pytest.mark.parametrize("damage", ["truncated", "garbage", "not-tradebot"])
def test_a_damaged_backup_is_refused_and_changes_nothing(workdir: Path, damage: str,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    import_candles(workdir)
    assert main(["db", "backup", "good.db"]) == 0
    bad = workdir / "bad.db"
    if damage == "truncated":
        bad.write_bytes((workdir / "good.db").read_bytes()[: 3 * 4096 + 100])
    elif damage == "garbage":
        bad.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    else:
        with sqlite3.connect(bad) as conn:
            conn.execute("CREATE TABLE t (x)")
    target = workdir / "fresh" / "trader.db"
    use_db(monkeypatch, target)
    assert main(["db", "restore", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "nothing was restored" in err and "Traceback" not in err
    assert not target.exists()


def test_encrypted_backup_needs_the_key_and_refuses_a_wrong_one(
        workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import_candles(workdir)
    assert main(["db", "backup", "--encrypt", "plain.db"]) == 1  # no key configured
    assert "secrets key" in capsys.readouterr().err
    key = generate_key()
    monkeypatch.setenv("TRADER_OPS__SECRETS_KEY", key)
    assert main(["db", "backup", "--encrypt", "--to", "bk"]) == 0
    made = only_backup(workdir / "bk")
    assert made.name.endswith(".db.enc") and made.read_bytes().startswith(MAGIC)
    assert b"candles" not in made.read_bytes()  # the schema is not readable without the key
    target = workdir / "fresh" / "trader.db"
    use_db(monkeypatch, target)
    monkeypatch.setenv("TRADER_OPS__SECRETS_KEY", generate_key())
    assert main(["db", "restore", str(made)]) == 1
    assert "wrong secrets key" in capsys.readouterr().err and not target.exists()
    monkeypatch.delenv("TRADER_OPS__SECRETS_KEY")
    assert main(["db", "restore", str(made)]) == 1
    assert "is encrypted" in capsys.readouterr().err
    monkeypatch.setenv("TRADER_OPS__SECRETS_KEY", key)
    assert main(["db", "restore", str(made)]) == 0
    assert candles_in(target) == ROWS


def test_restore_refuses_while_an_instance_holds_the_database(workdir: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    import_candles(workdir)
    assert main(["db", "backup", "copy.db"]) == 0
    lock = workdir / "data" / "trader.db.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what a running service holds
        assert main(["db", "restore", "copy.db", "--force"]) == 1
        assert "stop it before restoring" in capsys.readouterr().err
    finally:
        os.close(fd)


def test_retention_keeps_the_newest_and_latest_reads_the_name(tmp_path: Path) -> None:
    db = tmp_path / "trader.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num TEXT)")
    backups = SqlDatabaseBackup(f"sqlite+aiosqlite:///{db}", tmp_path / "bk")
    start = datetime(2026, 1, 1, 3, tzinfo=UTC)
    for day in range(5):
        backups.take(start + timedelta(days=day))
    (tmp_path / "bk" / "notes.txt").write_text("not a backup")
    deleted = backups.prune(keep=2)
    assert sorted(p.name for p in deleted) == [f"trader-2026010{d}-030000.db" for d in (1, 2, 3)]
    assert sorted(p.name for p in (tmp_path / "bk").iterdir()) == [
        "notes.txt", "trader-20260104-030000.db", "trader-20260105-030000.db"]
    latest = backups.latest()
    assert latest is not None and latest.taken_at == start + timedelta(days=4)
    assert latest.size_bytes == (tmp_path / "bk" / "trader-20260105-030000.db").stat().st_size


def test_encrypt_setting_without_a_key_is_a_config_error(workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TRADER_BACKUP__ENCRYPT", "true")
    assert main(["config", "check"]) != 0
    assert "backup.encrypt needs a secrets key" in capsys.readouterr().err


# ── PostgreSQL ───────────────────────────────────────────────────────────────────────────────
def pg_count(url: str, sql: str) -> int:
    import psycopg2

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = psycopg2.connect(dsn)
    try:
        cur = conn.cursor()
        cur.execute(sql)
        return int(cur.fetchone()[0])
    finally:
        conn.close()


@pytest.mark.postgres
def test_postgres_backup_and_checked_restore(workdir: Path, pg_url: str, second_pg_url: str,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TRADER_DATABASE__URL", pg_url)
    import_candles(workdir)
    assert main(["db", "backup", "--to", "bk"]) == 0
    made = only_backup(workdir / "bk")
    assert made.name.endswith(".dump") and made.read_bytes().startswith(b"PGDMP")
    truncated = workdir / "truncated.dump"
    truncated.write_bytes(made.read_bytes()[: made.stat().st_size // 2])
    monkeypatch.setenv("TRADER_DATABASE__URL", second_pg_url)
    assert main(["db", "restore", str(truncated)]) == 1
    assert "nothing was restored" in capsys.readouterr().err
    assert pg_count(second_pg_url, "SELECT count(*) FROM information_schema.tables "
                                   "WHERE table_schema = 'public'") == 0
    assert main(["db", "restore", str(made)]) == 0
    assert pg_count(second_pg_url, "SELECT count(*) FROM candles") == ROWS
    assert main(["db", "restore", str(made)]) == 1  # now it holds data
    assert "not empty" in capsys.readouterr().err
    monkeypatch.setenv("TRADER_DATABASE__URL", pg_url)
    assert main(["db", "restore", str(made), "--force"]) == 0  # replaces the tables in one transaction
    assert pg_count(pg_url, "SELECT count(*) FROM candles") == ROWS


@pytest.mark.postgres
def test_postgres_backup_without_client_tools_says_what_to_install(
        workdir: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TRADER_DATABASE__URL", pg_url)
    monkeypatch.setenv("PATH", str(workdir))  # no pg_dump here
    assert main(["db", "backup", "--to", "bk"]) == 1
    err = capsys.readouterr().err
    assert "pg_dump not found" in err and "postgresql-client" in err
    assert not (workdir / "bk").exists() or not any((workdir / "bk").iterdir())
