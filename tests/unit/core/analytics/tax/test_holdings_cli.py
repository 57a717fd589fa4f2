"""`tradebot tax import-holdings|holdings` and `tax export` with opening holdings (CSV and real stores)."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest

from tests.unit.core.analytics.tax.fixtures import fill
from trader.adapters.store.migrate import upgrade_async
from trader.adapters.store.sql.uow import Database
from trader.cli import main
from trader.config import load_settings

# A USDT-quoted account: no USDT/AUD buy, the starting USDT and a BTC bought elsewhere are opening holdings.
FILLS_CSV = """timestamp,symbol,side,amount,price,fee,fee_currency,trade_id
2023-08-01T02:00:00Z,BTC/USDT,buy,0.1,30000,3,USDT,b1
2024-03-01T02:00:00Z,BTC/USDT,sell,0.6,40000,0,USDT,s1
"""
RATES_CSV = """date,currency,aud_rate,source
2023-08-01,USDT,1.50,rba
2024-03-01,USDT,1.50,rba
"""
HOLDINGS_CSV = """asset,quantity,acquired_at,cost_base_aud,note,source
USDT,10000,2023-06-01T00:00:00+10:00,15000,starting balance,bank statement
BTC,0.5,2022-06-01,20000,bought on another exchange,
"""


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name, text in (("fills.csv", FILLS_CSV), ("rates.csv", RATES_CSV), ("holdings.csv", HOLDINGS_CSV)):
        (tmp_path / name).write_text(text)
    return tmp_path


def _lines(path: Path) -> list[list[str]]:
    rows = list(csv.reader(path.open()))
    return rows[1:rows.index([])]


def test_csv_only_export_needs_and_uses_the_opening_holdings(
        files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["tax", "export", "--year", "2024", "--fills", "fills.csv", "--rates", "rates.csv"]
    assert main([*args, "--out", "without"]) == 1
    err = capsys.readouterr().err
    assert "3003.0 USDT on 2023-08-01" in err and "import-holdings" in err
    assert not (files / "without").exists()
    assert main([*args, "--holdings", "holdings.csv", "--out", "out"]) == 0, capsys.readouterr().err
    lines = _lines(files / "out" / "cgt_FY2023-24_fifo.csv")
    assert [(r[0], r[1], r[8], r[7]) for r in lines] == [
        ("USDT", "3003.0", "opening USDT 2023-05-31T14:00:00Z", "no"),
        ("BTC", "0.5", "opening BTC 2022-05-31T14:00:00Z", "yes"),  # held > 12 months: discount
        ("BTC", "0.1", "b1", "no")]
    assert [r[4] for r in lines] == ["4504.50", "20000.00", "4504.50"]


def test_a_bad_holdings_file_names_file_and_line_and_writes_nothing(
        files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (files / "holdings.csv").write_text(HOLDINGS_CSV + "ETH,two,2022-06-01,100,,\n")
    code = main(["tax", "export", "--year", "2024", "--fills", "fills.csv", "--rates", "rates.csv",
                 "--holdings", "holdings.csv", "--out", "out"])
    assert code == 1 and "holdings.csv line 4: quantity 'two' is not a number" in capsys.readouterr().err
    assert not (files / "out").exists()


def test_import_holdings_is_validated_idempotent_and_feeds_the_store_export(
        files: Path, db_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TRADER_DATABASE__URL", db_url)
    assert main(["tax", "holdings"]) == 0
    assert "no opening holdings stored" in capsys.readouterr().out
    assert main(["tax", "import-holdings", "holdings.csv"]) == 0
    assert "stored 2 opening holding(s) from holdings.csv: 2 new, 0 replaced, 0 unchanged" in \
        capsys.readouterr().out
    assert main(["tax", "import-holdings", "holdings.csv"]) == 0
    assert "2 opening holding(s) from holdings.csv: 0 new, 0 replaced, 2 unchanged" in capsys.readouterr().out
    (files / "bad.csv").write_text(HOLDINGS_CSV.replace("15000", "99999") + "XRP,1,2022-13-01,1,,\n")
    assert main(["tax", "import-holdings", "bad.csv"]) == 1
    assert "bad.csv line 4: acquired_at '2022-13-01'" in capsys.readouterr().err
    assert main(["tax", "holdings"]) == 0
    listing = capsys.readouterr().out
    rows = [line.split("  ") for line in listing.splitlines()]
    usdt = next([cell.strip() for cell in row if cell.strip()] for row in rows if row[0].startswith("USDT"))
    assert usdt == ["USDT", "10000", "2023-05-31 14:00:00", "15,000.00", "1.50", "bank statement",
                    "starting balance"]
    header = listing.splitlines()[0]
    # money in the quote's precision with thousands separators, right-aligned under its header
    assert next(line for line in listing.splitlines() if line.startswith("USDT")).index("15,000.00") + 9 \
        == header.index("cost base (AUD)") + len("cost base (AUD)")
    assert "total BTC: 0.5 for 20,000.00 AUD" in listing and "99999" not in listing and "XRP" not in listing
    assert main(["tax", "import-rates", "rates.csv"]) == 0

    async def add_fills() -> None:
        await upgrade_async(db_url)
        database = Database.from_config(load_settings(None).database)
        try:
            async with database.uow() as uow:
                for f in (fill("2023-08-01T02:00", "BTC/USDT", "buy", "0.1", "30000", "3", trade_id="b1"),
                          fill("2024-03-01T02:00", "BTC/USDT", "sell", "0.6", "40000", trade_id="s1")):
                    await uow.fills.add(f)
                await uow.commit()
        finally:
            await database.dispose()

    asyncio.run(add_fills())
    assert main(["tax", "export", "--year", "2024", "--out", "store_out"]) == 0, capsys.readouterr().err
    lines = _lines(files / "store_out" / "cgt_FY2023-24_fifo.csv")
    assert [(r[0], r[8]) for r in lines] == [("USDT", "opening USDT 2023-05-31T14:00:00Z"),
                                             ("BTC", "opening BTC 2022-05-31T14:00:00Z"), ("BTC", "b1")]
