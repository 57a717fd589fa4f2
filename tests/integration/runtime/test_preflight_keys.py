"""`tradebot config check` refuses a live start `tradebot run` refuses: no confirmation, no API keys (also
once the secret store is read), secrets no key opens; on a real SQLite file and real PostgreSQL."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.fixtures.cli_runner import Runner
from trader.adapters.ops.secret_store import generate_key

MISSING = "exchange.api_key, api_secret: live trading on binance needs them"


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str) -> str:
    """A confirmed live binance account without keys, its venue a port nobody listens on."""
    monkeypatch.chdir(tmp_path)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for name, value in (("DATABASE__URL", db_url), ("OPS__HEALTH_ENABLED", "false"),
                        ("OPS__SECRETS_KEY", generate_key()), ("EXCHANGE__MODE", "live"),
                        ("EXCHANGE__LIVE_CONFIRMED", "true"),
                        ("EXCHANGE__API_BASE_URL", f"http://127.0.0.1:{port}")):
        monkeypatch.setenv(f"TRADER_{name}", value)
    return db_url


def test_live_keys_missing_are_refused_by_both_and_stored_keys_count(live: str, cli: Runner) -> None:
    code, out, err = cli(["config", "check"])
    assert code == 2 and MISSING in err and "config OK" not in out
    assert "tradebot secrets set exchange.api_key" in err and "TRADER_EXCHANGE__API_SECRET" in err
    code, _, ran = cli(["run", "--max-candles", "1"])
    assert code == 2 and MISSING in ran and "Traceback" not in ran
    assert cli(["secrets", "set", "exchange.api_key"], "planted-key\n")[0] == 0
    code, _, err = cli(["config", "check"])
    assert code == 2 and "exchange.api_secret: live trading on binance needs it" in err
    assert cli(["secrets", "set", "exchange.api_secret"], "planted-secret\n")[0] == 0
    code, out, err = cli(["config", "check"])
    assert code == 0 and "config OK" in out, err
    assert "planted-key" not in out + err and "planted-secret" not in out + err


def test_secrets_no_key_opens_fail_the_check_as_they_fail_the_start(
        live: str, cli: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli(["secrets", "set", "exchange.api_key"], "planted-key\n")[0] == 0
    monkeypatch.setenv("TRADER_OPS__SECRETS_KEY", generate_key())  # another key: opens nothing stored
    checked = cli(["config", "check"])
    started = cli(["run", "--max-candles", "1"])
    assert checked[0] == started[0] != 0
    [line] = [x for x in checked[2].splitlines() if "secret" in x]
    assert line in started[2] and "config OK" not in checked[1]


def test_the_check_creates_no_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Runner) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRADER_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'new' / 'trader.db'}")
    monkeypatch.setenv("TRADER_EXCHANGE__MODE", "live")
    monkeypatch.setenv("TRADER_EXCHANGE__LIVE_CONFIRMED", "true")
    code, _, err = cli(["config", "check"])
    assert code == 2 and MISSING in err
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(("env", "says"), [
    ({"TRADER_EXCHANGE__MODE": "live"}, "exchange.live_confirmed: set it to true to trade real money"),
    ({"TRADER_EXCHANGE__DEMO": "true"}, "exchange.demo: a demo account is traded by the live engine"),
    ({"TRADER_VENUES": '[{"name": "main", "exchange": "binance"}, {"name": "k", "exchange": "kraken", '
                       '"mode": "live", "live_confirmed": true}]'},
     "venues (k): api_key, api_secret: live trading on kraken needs them; store with `tradebot secrets "
     "set venues.k.api_key`"),
])
def test_check_and_run_refuse_the_same_live_start_with_the_same_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Runner, env: dict[str, str], says: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRADER_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'trader.db'}")
    monkeypatch.setenv("TRADER_OPS__HEALTH_ENABLED", "false")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, err = cli(["config", "check"])
    assert code == 2 and says in err and "config OK" not in out
    code, _, ran = cli(["run", "--max-candles", "1"])
    assert code == 2 and says in ran and "Traceback" not in ran


def test_run_mode_live_is_checked_as_live_before_anything_is_built(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Runner) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRADER_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'trader.db'}")
    code, _, ran = cli(["run", "--mode", "live", "--max-candles", "1"])
    assert code == 2 and "exchange.live_confirmed: set it to true" in ran
    assert not (tmp_path / "trader.db").exists()  # refused before the store was opened
