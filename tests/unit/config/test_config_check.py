"""`tradebot config check` rejects exactly what `tradebot run` rejects, with the same readable lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from trader.cli import main
from trader.config import load_settings
from trader.config.settings import unknown_env_names
from trader.core.errors import ConfigError

# (variable, value, what the one error line says); a value "{file}" is a path under a regular file
BAD = [
    ("TRADER_STRATEGIES", "[]", "no strategy is configured"),  # run --replay crashed: max() of nothing
    ("TRADER_EXCHANGE__TIMEFRAME", "7x", "exchange.timeframe = '7x': unknown timeframe"),
    ("TRADER_STRATEGIES", '[{"name": "breakout", "timeframe": "7x"}]', "unknown timeframe '7x'"),
    ("TRADER_STRATEGIES", '[{"name": "breakot"}]', "unknown strategy 'breakot'; did you mean 'breakout'?"),
    ("TRADER_STRATEGIES", '[{"name": "breakout", "params": {"lookbak": 3}}]', "unknown parameter(s)"),
    ("TRADER_STRATEGIES", '[{"name": "breakout", "allow_short": true}]',
     'allow_short needs market = "swap" (spot cannot be shorted)'),
    ("TRADER_STRATEGIES", '[{"name": "breakout", "leverage": 3}]', 'leverage 3 needs market = "swap"'),
    ("TRADER_STRATEGIES", '[{"name": "breakout", "market": "swap", "leverage": 200}]',
     "less than or equal to 125"),
    ("TRADER_STRATEGIES", '[{"name": "breakout", "market": "swap", "margin_mode": "portfolio"}]',
     "'isolated' or 'cross'"),
    ("TRADER_STRATEGIES", '[{"name": "breakout", "market": "swap"}, {"name": "bollinger_reversion"}]',
     "all strategies of one service trade the same market type"),
    ("TRADER_STRATEGIES", '[{"name": "breakout", "market": "swap", "leverage": 2}, '
                          '{"name": "bollinger_reversion", "market": "swap", "leverage": 3}]',
     "BTC/USDT: breakout trades it at 2x isolated, bollinger_reversion at 3x isolated"),
    ("TRADER_STRATEGIES", '[{"name": "pairs", "pairs": ["ETH/USDT", "BTC/USDT"]}]',
     'one leg is always short, which needs market = "swap"'),
    ("TRADER_STRATEGIES", '[{"name": "pairs", "pairs": ["ETH/USDT"], "market": "swap"}]',
     "pairs: list exactly two different pairs, the y leg first"),
    ("TRADER_STRATEGIES", '[{"name": "pairs", "pairs": ["ETH/USDT", "BTC/USDT"], "market": "swap", '
                          '"params": {"windw": 100}}]', "pairs: unknown parameter(s) windw"),
    ("TRADER_STRATEGIES", '[{"name": "pairs", "pairs": ["ETH/USDT", "BTC/USDT"], "market": "swap", '
                          '"params": {"entry_z": 1, "exit_z": 2}}]', "need 0 <= exit_z < entry_z < stop_z"),
    ("TRADER_STRATEGIES", '[{"name": "pairs", "pairs": ["ETH/USDT", "BTC/USDT"], "market": "swap", '
                          '"params": {"leg_fraction": 2}}]', "leg_fraction must be in (0, 1]"),
    ("TRADER_LOGGING__FILE", "{file}/logs/bot.log", "is a file, not a folder"),
    ("TRADER_RISKK__MAX_OPEN_POSITIONS", "3",
     "no section named 'riskk' (did you mean TRADER_RISK__MAX_OPEN_POSITIONS?)"),
    ("TRADER_RISK__MAX_OPEN_POSITION", "3",
     "no field of risk named 'max_open_position' (did you mean TRADER_RISK__MAX_OPEN_POSITIONS?)"),
    ("TRADER_RISK__TRAILING__DISTANC", "0.1", "(did you mean TRADER_RISK__TRAILING__DISTANCE?)"),
]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRADER_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path}/trader.db")
    monkeypatch.setenv("TRADER_OPS__HEALTH_ENABLED", "false")
    (tmp_path / "a-file").write_text("not a folder")
    return tmp_path


@pytest.mark.parametrize(("name", "value", "says"), BAD)
def test_config_check_and_run_refuse_the_same_setting_with_the_same_line(
        workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        name: str, value: str, says: str) -> None:
    monkeypatch.setenv(name, value.replace("{file}", str(workdir / "a-file")))
    assert main(["config", "check"]) == 2
    checked = capsys.readouterr()
    assert says in checked.err and "config OK" not in checked.out and "Traceback" not in checked.err
    assert main(["run", "--replay", "--max-candles", "1"]) == 2
    ran = capsys.readouterr().err
    assert says in ran and "Traceback" not in ran
    assert not (workdir / "trader.db").exists()  # refused before anything was built


def live_with_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set live mode, confirmed, with an API key and secret (placeholders: nothing is sent)."""
    for name, value in (("MODE", "live"), ("LIVE_CONFIRMED", "true"), ("API_KEY", "key"),
                        ("API_SECRET", "secret")):
        monkeypatch.setenv(f"TRADER_EXCHANGE__{name}", value)


def test_a_good_configuration_passes_the_check(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check"]) == 0
    assert "config OK" in capsys.readouterr().out


def test_a_leveraged_short_strategy_passes_on_a_swap_venue_and_not_on_kraken(
        workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TRADER_STRATEGIES", '[{"name": "breakout", "market": "swap", "allow_short": true, '
                                            '"leverage": 3}]')
    assert main(["config", "check"]) == 0
    assert "config OK" in capsys.readouterr().out
    monkeypatch.setenv("TRADER_EXCHANGE__NAME", "kraken")
    assert main(["config", "check"]) == 2
    assert 'market = "swap" is supported on binance, bybit, okx, not kraken' in capsys.readouterr().err
    monkeypatch.setenv("TRADER_EXCHANGE__NAME", "binance")
    live_with_keys(monkeypatch)  # live perpetuals are traded (docs/futures.md)
    assert main(["config", "check"]) == 0
    assert "config OK" in capsys.readouterr().out
    monkeypatch.setenv("TRADER_EXCHANGE__NAME", "okx")  # OKX swaps are traded live too
    monkeypatch.setenv("TRADER_EXCHANGE__API_PASSWORD", "passphrase")  # OKX keys have a passphrase
    assert main(["config", "check"]) == 0
    assert "config OK" in capsys.readouterr().out
    monkeypatch.setenv("TRADER_EXCHANGE__NAME", "bybit")  # and Bybit's linear perpetuals
    assert main(["config", "check"]) == 0
    assert "config OK" in capsys.readouterr().out


def test_bybit_live_swap_strategies_need_one_margin_mode_for_the_account(
        workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TRADER_STRATEGIES", '[{"name": "breakout", "market": "swap", "pairs": ["BTC/USDT"]}, '
                                            '{"name": "bollinger_reversion", "market": "swap", '
                                            '"pairs": ["ETH/USDT"], "margin_mode": "cross"}]')
    monkeypatch.setenv("TRADER_EXCHANGE__NAME", "bybit")
    assert main(["config", "check"]) == 0  # paper: the simulator has no account-wide setting
    capsys.readouterr()
    live_with_keys(monkeypatch)
    assert main(["config", "check"]) == 2
    assert "bybit holds one margin mode for the whole account, but the swap strategies use cross and " \
           "isolated" in capsys.readouterr().err
    monkeypatch.setenv("TRADER_EXCHANGE__NAME", "binance")  # per symbol there
    assert main(["config", "check"]) == 0


def test_a_pairs_strategy_on_perpetuals_passes_the_check(
        workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TRADER_STRATEGIES", '[{"name": "pairs", "pairs": ["ETH/USDT", "BTC/USDT"], '
                                            '"market": "swap", "params": {"window": 240, "entry_z": 2}}]')
    assert main(["config", "check"]) == 0
    assert "config OK" in capsys.readouterr().out


def test_unknown_names_only_concern_our_prefix_and_skip_the_test_suites_variables() -> None:
    assert unknown_env_names(["TRADER_TEST_PG_HOST", "TRADER_RISK__TRAILING__DISTANCE",
                              "TRADER_STRATEGIES", "TRADER_RISK"]) == []
    [line] = unknown_env_names(["TRADER_ZZZ"])
    assert line.startswith("TRADER_ZZZ: no section named 'zzz' (valid: database, exchange,")


def test_a_typo_in_the_dotenv_file_is_an_error_too(workdir: Path) -> None:
    (workdir / ".env").write_text("POSTGRES_PASSWORD=pw\nTRADER_RISK__MAX_OPEN_POSITONS=3\n")
    with pytest.raises(ConfigError, match="did you mean TRADER_RISK__MAX_OPEN_POSITIONS"):
        load_settings()


def test_the_ctl_variables_the_docs_export_are_not_settings_typos(
        workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # docs/web.md: `export TRADER_API_TOKEN=tb_...` then `tradebot ctl status` (which reads the settings
    # for the service's port), and every other command run from that shell
    assert unknown_env_names(["TRADER_API_TOKEN", "TRADER_CTL_URL"]) == []
    monkeypatch.setenv("TRADER_API_TOKEN", "tb_example")
    monkeypatch.setenv("TRADER_CTL_URL", "http://127.0.0.1:8080")
    assert main(["config", "check"]) == 0, capsys.readouterr().err
    assert unknown_env_names(["TRADER_API_TOKENS"])  # a near miss is still named
