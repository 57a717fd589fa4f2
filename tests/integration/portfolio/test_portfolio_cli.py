"""`tradebot portfolio` end to end: a real SQLite file and the fake CoinGecko."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.fakes.fake_coingecko import FakeCoinGecko, running_fake
from trader.cli import main
from trader.core.domain.money import D

MINE = """
[basket]
name = "mine"
quote = "USD"
[[categories]]
id = "majors"
title = "Majors"
[[assets]]
symbol = "BTC"
category = "majors"
weight = 0.75
[[assets]]
symbol = "ETH"
category = "majors"
weight = 0.25
"""


@pytest.fixture
def fake() -> Iterator[FakeCoinGecko]:
    fake = next(gen := running_fake())
    fake.price_path("bitcoin", "usd", date(2026, 1, 1), 5, D(30_000), D(0))
    fake.price_path("ethereum", "usd", date(2026, 1, 1), 5, D(2_000), D(0))
    fake.spot[("bitcoin", "usd")] = D(33_000)
    fake.spot[("ethereum", "usd")] = D(1_800)
    yield fake
    next(gen, None)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeCoinGecko) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "baskets").mkdir()
    (tmp_path / "baskets" / "mine.toml").write_text(MINE)
    monkeypatch.setenv("TRADER_DATABASE__URL", "sqlite+aiosqlite:///./data/trader.db")
    monkeypatch.setenv("TRADER_PORTFOLIO__BASKETS_DIR", str(tmp_path / "baskets"))
    monkeypatch.setenv("TRADER_PRICES__COINGECKO_BASE_URL", fake.base_url)
    monkeypatch.setenv("TRADER_PRICES__CALLS_PER_MINUTE", "1000")
    return tmp_path


def test_list_show_track_value_rebalance_and_untrack(workdir: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["portfolio", "list"]) == 0
    out = capsys.readouterr().out
    assert "default: 103 assets in 8 categories, 1,030.00 USD, nothing held" in out
    assert "mine: 2 assets in 1 category, weights, nothing held" in out
    assert main(["portfolio", "show", "default"]) == 0
    assert "Meme coins [meme], 11 assets" in capsys.readouterr().out
    assert main(["portfolio", "track", "mine", "--date", "2026-01-03"]) == 1  # weights need a total
    assert "--amount" in capsys.readouterr().err
    assert main(["portfolio", "track", "mine", "--date", "2026-01-03", "--amount", "1000"]) == 0
    tracked = capsys.readouterr().out
    assert "Tracking mine: 2 asset(s) bought virtually on 2026-01-03 for 1,000.00 USD." in tracked
    assert main(["portfolio", "value", "mine", "--assets"]) == 0
    out = capsys.readouterr().out
    # 750 / 30,000 = 0.025 BTC now 825; 250 / 2,000 = 0.125 ETH now 225: 1,050 for 1,000
    assert "Value 1,050.00 USD  cost 1,000.00 USD  PnL +50.00 USD (+5.00%)" in out
    assert "(coingecko, 0s old)" in out and "STALE" not in out
    assert main(["portfolio", "holdings"]) == 0
    assert "0.025" in capsys.readouterr().out
    assert main(["portfolio", "rebalance", "mine"]) == 0
    # 825 of 1,050 against 75 % (787.50): sell 37.50 of BTC, buy 37.50 of ETH, 0.1 % fees each. The ETH
    # order is 37.5 / 1,800 = 0.0208333... ETH (28 digits), worth a hair under 37.50: fees 0.07499... -> 0.07
    out = capsys.readouterr().out
    assert "buy 37.50 USD, sell 37.50 USD, fees about 0.07 USD" in out
    assert "  sell         0.00113636 BTC" in out and "(not listed on the exchange)" in out
    assert main(["portfolio", "untrack", "mine"]) == 0
    assert "forgot 2 holding(s) of mine" in capsys.readouterr().out
    assert main(["portfolio", "value", "mine"]) == 1
    assert "holds nothing yet" in capsys.readouterr().err


def test_check_names_every_problem_of_a_bad_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = workdir / "bad.toml"
    bad.write_text(MINE.replace("weight = 0.25", "weight = 0.5").replace('"majors"\nweight = 0.75',
                                                                         '"minors"\nweight = 0.75'))
    assert main(["portfolio", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: asset BTC: category 'minors' is not declared" in err
    assert f"{bad}: the weights add up to 1.25, not 1" in err
    assert main(["portfolio", "check", str(workdir / "baskets" / "mine.toml")]) == 0
    assert "basket mine, 2 assets in 1 category, quote USD: OK" in capsys.readouterr().out


def test_tracking_a_day_without_any_price_is_an_error_not_an_empty_success(
        workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["portfolio", "track", "mine", "--date", "2025-06-01", "--amount", "1000"]) == 1
    captured = capsys.readouterr()
    assert "Tracking mine" not in captured.out
    (line,) = [x for x in captured.err.splitlines() if x.startswith("error: ")]
    assert line == ("error: nothing tracked: no asset of mine has a price for 2025-06-01 (BTC, ETH; the "
                    "warnings above say why)")
    assert main(["portfolio", "holdings"]) == 0
    assert "No holdings" in capsys.readouterr().out
