"""``[[venues]]``: accounts built from the list (unset fields from ``[exchange]``), the single ``[exchange]``
as the one default account, and one readable line per inconsistency, the same in `tradebot config check`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from trader.adapters.ops.secret_store import check_name, overlay_settings
from trader.cli import main
from trader.config import DEFAULT_LABEL, load_settings
from trader.core.errors import ConfigError, SecretError
from trader.runtime.venues import primary_settings, venue_database_url

TWO = [{"name": "main", "exchange": "binance", "mode": "live", "pairs": ["BTC/USDT"]},
       {"name": "side", "exchange": "kraken", "pairs": ["ETH/USDT", "BTC/USDT"], "quote_currency": "USD"}]
BOUND = [{"name": "breakout", "venue": "main"}, {"name": "bollinger_reversion", "venue": "side"}]


def test_without_venues_the_exchange_section_is_the_one_default_account() -> None:
    settings = load_settings(exchange={"name": "kraken", "pairs": ["ETH/USD"]})
    (account,) = settings.accounts()
    assert (account.label, account.exchange.name, account.pairs) == (DEFAULT_LABEL, "kraken", ("ETH/USD",))
    assert [e.name for e in account.strategies] == ["breakout", "bollinger_reversion"]
    assert primary_settings(settings) is settings


def test_venues_take_unset_fields_from_the_exchange_section_and_bind_their_strategies() -> None:
    settings = load_settings(exchange={"timeframe": "4h", "paper_fee": "0.002"}, venues=TWO, strategies=BOUND)
    main_account, side = settings.accounts()
    assert (main_account.label, main_account.exchange.name, main_account.exchange.mode) == ("main", "binance",
                                                                                           "live")
    assert (side.exchange.name, side.exchange.mode) == ("kraken", "paper")
    assert side.exchange.quote_currency == "USD"
    assert side.exchange.timeframe == "4h" and side.exchange.paper_fee == main_account.exchange.paper_fee
    assert [e.name for e in main_account.strategies] == ["breakout"]
    assert [e.name for e in side.strategies] == ["bollinger_reversion"]
    primary = primary_settings(settings)  # the single-venue code paths run on the primary account
    assert primary.exchange == main_account.exchange
    assert primary.accounts() == settings.accounts()  # nothing the primary set leaks into the others


def test_a_strategy_without_venue_trades_on_the_first_account() -> None:
    settings = load_settings(venues=TWO, strategies=[{"name": "breakout"}])
    assert [len(a.strategies) for a in settings.accounts()] == [1, 0]


@pytest.mark.parametrize(("venues", "strategies", "says"), [
    ([TWO[0], TWO[0]], BOUND[:1], "venues: the account name 'main' is used twice"),
    (TWO, [{"name": "breakout", "venue": "mian"}], "strategies (breakout): venue 'mian' is not a [[venues]] "
                                                   "account (known: main, side)"),
    ([], [{"name": "breakout", "venue": "main"}], "venue 'main' is not a [[venues]] account (known: none"),
    (TWO, [{"name": "breakout", "venue": "main", "pairs": ["ETH/USDT"]}],
     "strategies (breakout): ETH/USDT not among the pairs of venue 'main' (BTC/USDT)"),
    ([{**TWO[0], "market": "swap"}], [{"name": "breakout"}],
     "strategies (breakout): market 'spot' but venue 'main' trades 'swap'"),
    ([{**TWO[0], "database_url": "sqlite+aiosqlite:///a.db"}, {**TWO[1], "database_url": "sqlite+aiosqlite:///a.db"}],
     BOUND, "venues (side): database_url is also 'main''s"),
    ([{"name": "Main Account"}], [{"name": "breakout"}], "venues.0.name"),
])
def test_each_inconsistency_is_one_readable_line(venues: list[dict[str, object]],
                                                  strategies: list[dict[str, object]], says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(venues=venues, strategies=strategies)
    assert any(says in line for line in caught.value.problems), caught.value.problems


def test_a_postgres_service_names_each_further_accounts_database() -> None:
    with pytest.raises(ConfigError, match=r"venues \(side\): set database_url"):
        load_settings(database={"url": "postgresql+asyncpg://u@h/db"}, venues=TWO, strategies=BOUND)


def test_config_check_refuses_an_unknown_venue_like_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRADER_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path}/trader.db")
    monkeypatch.setenv("TRADER_VENUES", '[{"name": "main"}]')
    monkeypatch.setenv("TRADER_STRATEGIES", '[{"name": "breakout", "venue": "other"}]')
    assert main(["config", "check"]) == 2
    assert "venue 'other' is not a [[venues]] account (known: main)" in capsys.readouterr().err
    monkeypatch.setenv("TRADER_STRATEGIES", '[{"name": "breakout", "venue": "main"}]')
    assert main(["config", "check"]) == 0


def test_a_further_account_gets_a_sqlite_file_beside_the_main_one() -> None:
    _, side = load_settings(venues=TWO, strategies=BOUND).accounts()
    assert venue_database_url("sqlite+aiosqlite:///./data/trader.db", side) == \
        "sqlite+aiosqlite:///data/trader.side.db"
    assert venue_database_url("sqlite+aiosqlite:///:memory:", side) == "sqlite+aiosqlite:///:memory:"


def test_venue_keys_come_from_the_secret_store_by_account_name() -> None:
    settings = load_settings(venues=TWO, strategies=BOUND)
    assert check_name("venues.side.api_key") == "venues.side.api_key"
    with pytest.raises(SecretError, match=r"venues\.<account>\.api_key"):
        check_name("venues.side.token")
    overlaid = overlay_settings(settings, {"venues.side.api_key": "k", "venues.side.api_secret": "s",
                                           "venues.gone.api_key": "x"})
    _, side = overlaid.accounts()
    assert side.exchange.api_key == SecretStr("k") and side.exchange.api_secret == SecretStr("s")
    assert overlaid.accounts()[0].exchange.api_key is None


def test_a_further_account_is_checked_like_the_exchange_section(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRADER_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path}/trader.db")
    monkeypatch.setenv("TRADER_VENUES", '[{"name": "main"}, {"name": "k", "exchange": "kraken", '
                                        '"demo": true}]')
    assert main(["config", "check"]) == 2
    assert "venues (k): " in capsys.readouterr().err


async def test_several_accounts_never_fall_back_to_the_replay_demo() -> None:
    from trader.core.errors import ExchangeUnavailable
    from trader.runtime.container import RunOptions, choose_mode

    venues = [{"name": "main", "api_base_url": "http://127.0.0.1:9"}, TWO[1]]
    settings = load_settings(venues=venues, strategies=BOUND)
    primary = primary_settings(settings)
    with pytest.raises(ExchangeUnavailable, match="exchange binance is not reachable"):
        await choose_mode(primary, RunOptions(probe_timeout=2.0))


def test_config_check_accepts_live_swaps_on_a_further_account_beside_a_spot_primary_and_not_on_kraken(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRADER_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path}/trader.db")
    keys = {"api_key": "key", "api_secret": "secret"}  # placeholders: the check sends nothing
    swap = {"name": "perp", "exchange": "binance", "mode": "live", "live_confirmed": True, "market": "swap",
            "pairs": ["BTC/USDT"], **keys}
    monkeypatch.setenv("TRADER_VENUES", json.dumps([{"name": "main", "mode": "live", "live_confirmed": True,
                                                     **keys}, swap]))
    monkeypatch.setenv("TRADER_STRATEGIES", json.dumps([
        {"name": "breakout", "venue": "main"},
        {"name": "bollinger_reversion", "venue": "perp", "market": "swap", "allow_short": True,
         "leverage": 3, "margin_mode": "isolated"}]))
    assert main(["config", "check"]) == 0, capsys.readouterr().err
    assert "config OK" in capsys.readouterr().out
    settings = load_settings()
    assert [(a.label, a.market) for a in settings.accounts()] == [("main", "spot"), ("perp", "swap")]
    assert settings.market_type == "spot"  # the primary's market, whatever the further accounts trade

    monkeypatch.setenv("TRADER_VENUES", json.dumps([{"name": "main"}, {**swap, "exchange": "kraken"}]))
    assert main(["config", "check"]) == 2
    err = capsys.readouterr().err
    assert "strategies.1 (bollinger_reversion): market = \"swap\" is supported on binance, bybit, okx, " \
           "not kraken on venue 'perp'" in err, err


def test_one_leverage_per_pair_holds_per_account_not_across_accounts() -> None:
    venues = [{"name": "a", "market": "swap", "pairs": ["BTC/USDT"]},
              {"name": "b", "market": "swap", "pairs": ["BTC/USDT"]}]
    settings = load_settings(venues=venues, strategies=[
        {"name": "breakout", "venue": "a", "market": "swap", "leverage": 2},
        {"name": "bollinger_reversion", "venue": "b", "market": "swap", "leverage": 5}])
    assert [a.strategies[0].leverage for a in settings.accounts()] == [2, 5]
    with pytest.raises(ConfigError, match="the venue holds one setting"):
        load_settings(venues=venues[:1], strategies=[
            {"name": "breakout", "venue": "a", "market": "swap", "leverage": 2},
            {"name": "bollinger_reversion", "venue": "a", "market": "swap", "leverage": 5}])


def test_a_further_bybit_account_needs_one_margin_mode_like_the_exchange_section() -> None:
    from trader.runtime.preflight import runnable_problems

    venues = [{"name": "main"}, {"name": "by", "exchange": "bybit", "market": "swap", "mode": "live",
                                  "live_confirmed": True, "pairs": ["BTC/USDT", "ETH/USDT"]}]
    swaps = [{"name": "breakout", "venue": "by", "market": "swap", "pairs": ["BTC/USDT"]},
             {"name": "bollinger_reversion", "venue": "by", "market": "swap", "pairs": ["ETH/USDT"],
              "margin_mode": "cross"}]
    problems = runnable_problems(load_settings(venues=venues, strategies=swaps))
    assert any("bybit holds one margin mode for the whole account" in p for p in problems), problems
    swaps[1]["margin_mode"] = "isolated"
    assert runnable_problems(load_settings(venues=venues, strategies=swaps)) == []
