"""`tradebot db` and `tradebot data` end to end: real SQLite file, real PostgreSQL, fake exchange."""

from __future__ import annotations

import gzip
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fakes.fake_exchange import FakeExchange
from trader.adapters.store.migrate import head_revision
from trader.cli import main


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRADER_DATABASE__URL", "sqlite+aiosqlite:///./data/trader.db")
    return tmp_path


def candles_in(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM candles").fetchone()[0])


def test_db_upgrade_current_and_guarded_downgrade(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shipped = sorted(p.name for p in (Path(__file__).resolve().parents[3] / "migrations" / "versions")
                     .glob("[0-9][0-9][0-9][0-9]_*.py"))
    assert head_revision() == shipped[-1][:4]  # the newest migration file is the head
    assert main(["db", "upgrade"]) == 0
    assert (workdir / "data" / "trader.db").is_file()  # the directory is created
    assert f"revision {head_revision()}" in capsys.readouterr().out
    assert main(["db", "downgrade", "base"]) == 1
    assert "--yes" in capsys.readouterr().err
    assert main(["db", "current"]) == 0
    assert f"revision {head_revision()}" in capsys.readouterr().out
    assert main(["db", "downgrade", "base", "--yes"]) == 0
    assert "revision base" in capsys.readouterr().out
    main(["db", "current"])
    assert "needs `tradebot db upgrade`" in capsys.readouterr().out


def test_import_list_and_backup(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = workdir / "ETH_BTC-5m.csv.gz"
    rows = ["timestamp,open,high,low,close,volume"] + [
        f"{1_704_067_200_000 + i * 300_000},0.05,0.06,0.04,0.055,{i}" for i in (0, 1, 2, 5)]
    source.write_bytes(gzip.compress("\n".join(rows).encode()))
    assert main(["data", "import", str(source)]) == 0
    assert "4 ETH/BTC 5m candles 2024-01-01 00:00 .. 2024-01-01 00:25" in capsys.readouterr().out
    assert main(["data", "list", "--gaps"]) == 0
    out = capsys.readouterr().out
    assert "binance    ETH/BTC      5m   2024-01-01 00:00  2024-01-01 00:25          4     1        2" in out
    assert "gap from 2024-01-01 00:15: 2 missing" in out
    assert main(["db", "backup", "backup.db"]) == 0
    assert candles_in(workdir / "backup.db") == 4
    assert main(["db", "backup", "backup.db"]) == 1
    assert "never overwrite" in capsys.readouterr().err


def test_malformed_import_names_the_line_and_stores_nothing(workdir: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    bad = workdir / "BTC_USDT-1h.csv"
    bad.write_text("1704067200000,1,2,0.5,1.5,3\n1704070800000,1,2,0.5,1.5\n")
    assert main(["data", "import", str(bad)]) == 1
    assert f"{bad}:2: expected 6 fields" in capsys.readouterr().err
    assert candles_in(workdir / "data" / "trader.db") == 0


def test_bad_arguments_are_refused_by_the_parser(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["data", "fetch", "--pair", "BTCUSDT", "--since", "2024-01-01"])
    assert "not a pair" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["data", "fetch", "--pair", "BTC/USDT", "--since", "01/01/2024"])
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_fetch_through_ccxt_then_resume(workdir: Path, fake_exchange: FakeExchange,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TRADER_EXCHANGE__API_BASE_URL", fake_exchange.base_url)
    args = ["data", "fetch", "--exchange", "binance", "--pair", "BTC/USDT", "--timeframe", "1h",
            "--since", "2024-04-20", "--until", "2024-04-21"]
    assert main(args) == 0
    assert "binance BTC/USDT 1h: 24 candles in 1 requests from 2024-04-20 00:00" in capsys.readouterr().out
    assert main([*args[:-1], "2024-04-22"]) == 0  # resumes at 2024-04-20 23:00 to the end of the data
    out = capsys.readouterr().out
    assert "16 candles in 2 requests from 2024-04-20 23:00; last stored 2024-04-21 14:00" in out
    assert candles_in(workdir / "data" / "trader.db") == 39


async def test_backup_during_an_open_write_copies_only_committed_data(tmp_path: Path) -> None:
    import numpy as np

    from trader.adapters.store import migrate
    from trader.adapters.store.backup import backup_to
    from trader.adapters.store.sql.uow import Database
    from trader.core.domain.candles import CandleFrame
    from trader.core.domain.ids import Symbol

    url = f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"
    await migrate.upgrade_async(url)
    db = Database.from_url(url)
    rows = np.array([[1_704_067_200_000 + i * 3_600_000, 1, 2, 0.5, 1.5, 3] for i in range(10)])
    try:
        async with db.uow() as uow:
            await uow.candles.upsert("binance", Symbol("BTC/USDT"), "1h", CandleFrame.from_arrays(rows[:4]))
            await uow.commit()
            await uow.candles.upsert("binance", Symbol("BTC/USDT"), "1h", CandleFrame.from_arrays(rows[4:]))
            backup_to(url, tmp_path / "copy.db", datetime.now(UTC))  # the writer still holds its lock
    finally:
        await db.dispose()
    assert candles_in(tmp_path / "copy.db") == 4


def test_fetch_funding_rates_then_backtest_a_short_strategy_with_them(
        workdir: Path, fake_exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from decimal import Decimal

    start = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp() * 1000)
    eight_hours = 8 * 3_600_000
    fake_exchange.futures.funding_rates["BTCUSDT"] = [(start + i * eight_hours, Decimal("0.0003"))
                                                      for i in range(3 * 181)]
    monkeypatch.setenv("TRADER_EXCHANGE__API_BASE_URL", fake_exchange.base_url)
    assert main(["data", "fetch", "--funding", "--pair", "BTC/USDT", "--since", "2023-01-01",
                 "--until", "2023-07-01", "--out", "funding"]) == 0
    out = capsys.readouterr().out
    assert "BTC/USDT funding: 543 rates in 2 requests -> funding/BTC_USDT-funding.csv" in out
    assert "GET /fapi/v1/fundingRate" in fake_exchange.requests
    lines = (workdir / "funding" / "BTC_USDT-funding.csv").read_text().splitlines()
    assert lines[:2] == ["time,rate", "2023-01-01T00:00:00+00:00,0.0003"] and len(lines) == 544
    backtest = ["backtest", "--strategy", "bollinger_reversion", "--pairs", "BTC/USDT", "--timeframe", "1h",
                "--from", "2023-01-01", "--to", "2023-07-01", "--short", "--leverage", "3", "--quiet"]
    assert main([*backtest, "--funding-dir", "funding"]) == 0
    charged = capsys.readouterr().out
    assert "funding: charged at each funding time from the rate history: BTC/USDT" in charged
    assert main(backtest) == 0
    free = capsys.readouterr().out
    assert "funding: not charged (no funding-rate history given: --funding-dir)" in free
    equity = [line for line in (charged, free) for line in line.splitlines() if line.startswith("Equity")]
    assert equity[0] != equity[1]  # the funding moved the result
