"""AUD rates fetched for tax: /tax on a fresh store with only trades, the export CLI, fetch-rates."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.fakes.fake_coingecko import FakeCoinGecko, running_fake
from tests.fixtures.live_runtime import ADMIN_ACTOR, MakeRuntime
from trader.config import PricesConfig
from trader.core.analytics.tax.cgt_events import needed_rates
from trader.core.errors import DataError
from trader.ports.store import OpeningParcel

SYDNEY = ZoneInfo("Australia/Sydney")


@pytest.fixture
def fake() -> Iterator[FakeCoinGecko]:
    fake = next(gen := running_fake())
    fake.price_path("tether", "aud", date(2021, 12, 1), 240, Decimal("1.35"), Decimal("0.001"))
    yield fake
    next(gen, None)


async def trade_once(make_runtime: MakeRuntime, fake: FakeCoinGecko, **prices: object):  # type: ignore[no-untyped-def]
    live = await make_runtime(prices=PricesConfig(coingecko_base_url=fake.base_url, calls_per_minute=1000,
                                                  **prices))  # type: ignore[arg-type]
    position = await live.open_position()
    await live.runtime.services.control.close(position.id, ADMIN_ACTOR)
    await live.advance(1)
    async with live.uow() as uow:  # the paper account's starting USDT, bought before the records
        await uow.opening_holdings.upsert([OpeningParcel(
            "USDT", Decimal(10_000), datetime(2021, 12, 1, tzinfo=UTC), Decimal(13_500), "paper balance")])
        await uow.commit()
    return live


async def test_tax_on_a_fresh_store_fetches_the_rates_it_needs(make_runtime: MakeRuntime,
                                                               fake: FakeCoinGecko) -> None:
    live = await trade_once(make_runtime, fake)
    async with live.uow() as uow:
        fills = await uow.fills.since(datetime(2020, 1, 1, tzinfo=UTC))
    needed = needed_rates(fills, SYDNEY)
    assert needed and {c for c, _ in needed} == {"USDT"}
    document = await live.runtime.services.reports.tax_report(2022)
    span = (max(d for _, d in needed) - min(d for _, d in needed)).days + 1
    assert f"AUD rates: {span} fetched from coingecko" in document.caption
    rows = list(csv.reader(io.StringIO(document.content.decode())))
    assert any(r and r[0] in ("BTC", "ETH") for r in rows), rows[:5]
    async with live.uow() as uow:
        stored = [await uow.aud_rates.get(c, d) for c, d in sorted(needed)]
    assert all(r is not None and r.source == "coingecko" for r in stored)
    day = sorted(needed)[0][1]
    expected = Decimal("1.35") + Decimal("0.001") * (day - date(2021, 12, 1)).days
    assert stored[0] is not None and stored[0].rate == expected
    calls = len(fake.seen)
    await live.runtime.services.reports.tax_report(2022)  # rates are stored now: nothing asked again
    assert len(fake.seen) == calls


async def test_tax_says_what_to_do_when_coingecko_cannot_help(make_runtime: MakeRuntime,
                                                             fake: FakeCoinGecko) -> None:
    live = await trade_once(make_runtime, fake, max_retries=1)
    fake.throttle_next, fake.retry_after = 100, "0"
    with pytest.raises(DataError) as raised:
        await live.runtime.services.reports.tax_report(2022)
    assert "coingecko could not provide them" in raised.value.user_message
    assert "tradebot tax import-rates" in raised.value.user_message


def test_export_cli_fetches_missing_rates(tmp_path: Path, fake: FakeCoinGecko,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from trader.cli import main

    fills = tmp_path / "fills.csv"
    fills.write_text("timestamp,symbol,side,amount,price,fee,fee_currency,trade_id\n"
                     "2022-01-10T03:00:00Z,BTC/USDT,buy,0.1,40000,4,USDT,t1\n"
                     "2022-03-10T03:00:00Z,BTC/USDT,sell,0.1,42000,4.2,USDT,t2\n")
    holdings = tmp_path / "holdings.csv"
    holdings.write_text("asset,quantity,acquired_at,cost_base_aud,note,source\n"
                        "USDT,10000,2021-12-01,13500,starting balance,bank statement\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRADER_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'trader.db'}")
    monkeypatch.setenv("TRADER_PRICES__COINGECKO_BASE_URL", fake.base_url)
    monkeypatch.setenv("TRADER_PRICES__CALLS_PER_MINUTE", "1000")
    assert main(["tax", "export", "--year", "2022", "--fills", str(fills), "--holdings", str(holdings),
                 "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    # every day from the first to the last needed one (2022-01-10 .. 2022-03-10) is stored
    assert "fetched 60 AUD rate(s) from coingecko" in out and "wrote" in out
    assert main(["tax", "fetch-rates", "--year", "2022"]) == 0  # no fills in the store: nothing needed
    assert "need no AUD rates" in capsys.readouterr().out
