"""`tradebot tax export` / `import-rates` end to end: CSV files in, files out; store on real databases."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.fakes.fake_exchange import FakeExchange
from tests.fakes.fake_exchange.venue import FakeMarket
from tests.unit.core.analytics.tax.fixtures import fill
from trader.adapters.store.migrate import upgrade_async
from trader.adapters.store.sql.uow import Database
from trader.cli import main
from trader.config import load_settings

FILLS_CSV = """timestamp,symbol,side,amount,price,fee,fee_currency,trade_id
2023-01-10T02:00:00Z,USDT/AUD,buy,60000,1.40,0,AUD,u1
2023-01-11T02:00:00Z,BTC/USDT,buy,1,20000,20,USDT,b1
2023-03-10T02:00:00Z,BTC/USDT,buy,1,30000,30,USDT,b2
2023-08-01T02:00:00Z,BTC/USDT,sell,1.5,40000,60,USDT,s1
2024-08-01T02:00:00Z,BTC/USDT,sell,0.5,60000,30,USDT,s2
"""
RATES_CSV = """date,currency,aud_rate,source
2023-01-11,USDT,1.45,rba
2023-03-10,USDT,1.50,rba
2023-08-01,USDT,1.52,rba
"""


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fills.csv").write_text(FILLS_CSV)
    (tmp_path / "rates.csv").write_text(RATES_CSV)
    return tmp_path


def test_export_from_csv_writes_cgt_koinly_and_png(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["tax", "export", "--year", "2024", "--method", "highest-cost", "--fills", "fills.csv",
                 "--rates", "rates.csv", "--out", "out"])
    out, err = capsys.readouterr()
    assert code == 0, err
    written = sorted(p.name for p in (files / "out").iterdir())
    assert written == ["cgt_FY2023-24_highest-cost.csv", "cgt_FY2023-24_highest-cost.png",
                       "koinly_FY2023-24.csv"]
    rows = list(csv.reader((files / "out" / "cgt_FY2023-24_highest-cost.csv").open()))
    assets = [r[0] for r in rows[1:rows.index([])]]
    assert assets == ["BTC", "BTC"]  # 1.5 BTC sold across two parcels; the USDT swaps fell in FY2022-23
    summary = {r[1]: r[2] for r in rows[rows.index([]) + 1:]}
    assert summary["parcel_matching_method"] == "specific identification: highest cost first"
    assert (files / "out" / "cgt_FY2023-24_highest-cost.png").read_bytes()[:4] == b"\x89PNG"
    koinly = list(csv.DictReader((files / "out" / "koinly_FY2023-24.csv").open()))
    # only this income year's fills: u1, b1, b2 belong in FY2022-23's file, s2 in FY2024-25's
    assert [k["TxHash"] for k in koinly] == ["s1"]
    assert "net capital gain" in out
    # the method reads as in the /tax caption, not in nested brackets "(... (FIFO))"
    assert out.startswith("FY2023-24, specific identification: highest cost first: 2 disposal line(s); "), out


def test_missing_rate_fails_with_date_and_asset_and_writes_nothing(
        files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (files / "rates.csv").write_text(RATES_CSV.replace("2023-08-01,USDT,1.52,rba\n", ""))
    code = main(["tax", "export", "--year", "2024", "--fills", "fills.csv", "--rates", "rates.csv",
                 "--out", "out"])
    _, err = capsys.readouterr()
    assert code == 1 and "No AUD rate for USDT on 2023-08-01" in err
    assert not (files / "out").exists()


def test_bad_arguments_are_refused_with_a_reason(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tax", "export", "--year", "24", "--fills", "fills.csv", "--out", "o"]) == 1
    assert "--year 24 is not an income year" in capsys.readouterr().err
    assert main(["tax", "export", "--year", "2024", "--fills", "nope.csv", "--rates", "rates.csv",
                 "--out", "o"]) == 1
    assert "cannot read fills file nope.csv" in capsys.readouterr().err
    assert main(["tax", "export", "--year", "2024", "--fills", "fills.csv", "--rates", "rates.csv",
                 "--out", "o", "--timezone", "Mars/Olympus"]) == 1
    assert "unknown time zone" in capsys.readouterr().err


def test_import_rates_then_export_reads_fills_and_rates_from_the_store(
        files: Path, db_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TRADER_DATABASE__URL", db_url)
    assert main(["tax", "import-rates", "rates.csv"]) == 0
    assert "stored 3 AUD rate(s)" in capsys.readouterr().out

    async def add_fills() -> None:
        await upgrade_async(db_url)
        database = Database.from_config(load_settings(None).database)
        try:
            async with database.uow() as uow:
                for f in (fill("2023-01-10T02:00", "USDT/AUD", "buy", "50000", "1.40", trade_id="u1"),
                          fill("2023-01-11T02:00", "BTC/USDT", "buy", "1", "20000", "20", trade_id="b1"),
                          fill("2023-08-01T02:00", "BTC/USDT", "sell", "1", "40000", "40", trade_id="s1")):
                    await uow.fills.add(f)
                await uow.commit()
        finally:
            await database.dispose()

    asyncio.run(add_fills())
    assert main(["tax", "export", "--year", "2024", "--out", "store_out"]) == 0, capsys.readouterr().err
    rows = list(csv.reader((files / "store_out" / "cgt_FY2023-24_fifo.csv").open()))
    btc = next(r for r in rows if r and r[0] == "BTC")
    # cost (20000 + 20) x 1.45 = 29029.00; proceeds (40000 - 40) x 1.52 = 60739.20
    assert (btc[4], btc[5], btc[6]) == ("29029.00", "60739.20", "31710.20")
    assert "USDT 1.52 @2023-08-01 (rba)" in btc[11]


def test_fetch_rates_stores_daily_closes_of_an_aud_market_via_ccxt(
        files: Path, sqlite_url: str, fake_exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    market = FakeMarket("USDT", "AUD", tick_size=Decimal("0.0001"), price=Decimal("1.5"))
    fake_exchange.venue.add_market(market)
    day0 = int(datetime(2023, 7, 30, tzinfo=UTC).timestamp() * 1000)
    closes = [1.49, 1.51, 1.52, 1.53, 1.55]
    fake_exchange.set_candles("USDT/AUD", "1d", [[day0 + i * 86_400_000, c, c, c, c, 1000.0]
                                                 for i, c in enumerate(closes)])
    monkeypatch.setenv("TRADER_DATABASE__URL", sqlite_url)
    monkeypatch.setenv("TRADER_EXCHANGE__NAME", "binance")
    monkeypatch.setenv("TRADER_EXCHANGE__API_BASE_URL", fake_exchange.base_url)
    code = main(["tax", "fetch-rates", "--market", "usdt/aud", "--since", "2023-07-31",
                 "--until", "2023-08-02"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "stored 3 USDT AUD rate(s) from binance USDT/AUD 1d close, 2023-07-31 to 2023-08-02" in out

    async def stored() -> list[tuple[date, Decimal]]:
        database = Database.from_config(load_settings(None).database)
        try:
            async with database.uow() as uow:
                found = [await uow.aud_rates.get("USDT", date(2023, 7, d)) for d in (30, 31)]
                found.append(await uow.aud_rates.get("USDT", date(2023, 8, 2)))
                found.append(await uow.aud_rates.get("USDT", date(2023, 8, 3)))
                return [(r.day, r.rate) for r in found if r is not None]
        finally:
            await database.dispose()

    expected = [(date(2023, 7, 31), Decimal("1.51")), (date(2023, 8, 2), Decimal("1.53"))]
    assert asyncio.run(stored()) == expected
    assert main(["tax", "fetch-rates", "--market", "BTC/USDT", "--since", "2023-07-31"]) == 1
    assert "not quoted in AUD" in capsys.readouterr().err
