"""Bad candle input: refused whole with the line named; bad rows already stored never crash a reader."""

from __future__ import annotations

import functools
import sqlite3
from pathlib import Path

import pytest

from trader.cli import main
from trader.services import market_data
from trader.services.candle_csv import iter_candle_chunks

HEADER = "timestamp,open,high,low,close,volume\n"
START = 1_704_067_200_000  # 2024-01-01, hour-aligned


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRADER_DATABASE__URL", "sqlite+aiosqlite:///./data/trader.db")
    return tmp_path


def candles_in(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM candles").fetchone()[0])


def good_rows(n: int) -> list[str]:
    return [f"{START + i * 3_600_000},100,110,90,105,{i}" for i in range(n)]


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ("9000000000000000000,100,110,90,105,1", "timestamp 9000000000000000000 is after 2100"),
        (f"{START + 5 * 3_600_000},0,110,90,105,1", "a price is not a finite number in (0, 1e+15]"),
        (f"{START + 5 * 3_600_000},1e308,1e308,1e308,1e308,1", "a price is not a finite number"),
        (f"{START + 5 * 3_600_000},100,110,90,105,1e300", "volume is not a finite number"),
    ],
)
def test_absurd_rows_are_refused_and_nothing_is_stored(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                       bad_row: str, message: str) -> None:
    assert main(["db", "upgrade"]) == 0
    path = workdir / "BTC_USDT-1h.csv"
    path.write_text(HEADER + "\n".join([*good_rows(5), bad_row]) + "\n")
    assert main(["data", "import", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:7: " in err and message in err and "Traceback" not in err
    assert candles_in(workdir / "data" / "trader.db") == 0


def test_a_bad_row_in_a_late_chunk_rolls_back_the_chunks_already_written(
        workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    small = functools.partial(iter_candle_chunks, chunk_rows=3)
    monkeypatch.setattr(market_data, "iter_candle_chunks", small)
    path = workdir / "BTC_USDT-1h.csv"
    rows = good_rows(12)
    rows[10] = f"{START + 10 * 3_600_000},100,95,90,105,1"  # high below close, in the fourth chunk
    path.write_text(HEADER + "\n".join(rows) + "\n")
    assert main(["data", "import", str(path)]) == 1
    assert f"{path}:12: high is below open or close" in capsys.readouterr().err
    assert candles_in(workdir / "data" / "trader.db") == 0
    rows[10] = f"{START + 9 * 3_600_000},100,110,90,105,1"  # a duplicate across a chunk boundary
    path.write_text(HEADER + "\n".join(rows) + "\n")
    assert main(["data", "import", str(path)]) == 1
    assert f"{path}:12: timestamp is not after the previous row" in capsys.readouterr().err
    assert candles_in(workdir / "data" / "trader.db") == 0


def test_bad_rows_already_stored_are_reported_skipped_and_can_be_dropped(
        workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sample = Path(__file__).resolve().parents[3] / "trader" / "data" / "sample" / "BTC_USDT-1h.csv.gz"
    assert main(["data", "import", str(sample)]) == 0
    db = workdir / "data" / "trader.db"
    stored = candles_in(db)
    with sqlite3.connect(db) as conn:  # what an older version or another tool could have written
        conn.execute("INSERT INTO candles VALUES ('binance', 'BTC/USDT', '1h', 9000000000000000000, "
                     "1, 2, 0.5, 1.5, 1)")
        conn.execute("UPDATE candles SET open = 0, low = 0 WHERE ts = "
                     "(SELECT min(ts) + 36000000 FROM candles)")
        conn.execute("UPDATE candles SET open = 1e308, high = 1e308 WHERE ts = "
                     "(SELECT min(ts) + 72000000 FROM candles)")
    capsys.readouterr()
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert f"{stored - 2:>9,}" in out and "3 bad rows skipped" in out and "drop-bad" in out
    assert main(["backtest", "--strategy", "breakout", "--pairs", "BTC/USDT", "--timeframe", "1h",
                 "--source", "store", "--quiet"]) == 0
    assert main(["data", "drop-bad"]) == 0
    assert "deleted 3 bad candles" in capsys.readouterr().out
    assert candles_in(db) == stored - 2
    assert main(["data", "list"]) == 0
    assert "bad rows" not in capsys.readouterr().out
