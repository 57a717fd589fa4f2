import subprocess
import sys

import pytest

from trader.config import load_settings, masked_dump
from trader.core.errors import ConfigError


def test_defaults_load(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert s.database.url.startswith("sqlite+aiosqlite")


@pytest.mark.parametrize(
    ("env", "value", "fragment"),
    [
        ("TRADER_RISK__RISK_PER_TRADE", "2", "risk.risk_per_trade"),
        ("TRADER_EXCHANGE__PAIRS", '["BTCUSDT"]', "not BASE/QUOTE"),
        ("TRADER_DATABASE__URL", "mysql://x", "database.url"),
        ("TRADER_RISK__TIMEZONE", "Mars/Olympus", "unknown timezone"),
        ("TRADER_RISK__MAX_OPEN_POSITIONS", "zero", "risk.max_open_positions"),
    ],
)
def test_bad_value_gives_readable_line(monkeypatch, tmp_path, env, value, fragment) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert fragment in str(err.value)
    assert "Traceback" not in str(err.value)


def test_cli_config_check_exit_code_2_and_secret_masked(tmp_path) -> None:
    env = {"TRADER_RISK__RISK_PER_TRADE": "-1", "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "trader", "config", "check"], env=env, cwd=tmp_path,
                       capture_output=True, text=True, check=False)
    assert r.returncode == 2, r.stderr
    assert "risk.risk_per_trade" in r.stderr and "Traceback" not in r.stderr
    env = {"TRADER_TELEGRAM__TOKEN": "123:SECRETTOKENVALUE", "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "trader", "config", "check"], env=env, cwd=tmp_path,
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0 and "SECRETTOKENVALUE" not in r.stdout and "********" in r.stdout


def test_toml_file_is_read(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    p = tmp_path / "c.toml"
    p.write_text('[risk]\nrisk_per_trade = "0.02"\n[telegram]\nallowed_chats = [{id = 5, role = "admin"}]\n')
    s = load_settings(p)
    assert str(s.risk.risk_per_trade) == "0.02" and s.telegram.allowed_chats[0].role == "admin"
    assert masked_dump(s)["telegram"]["token"] is None


def test_dotenv_with_foreign_keys_is_accepted(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("POSTGRES_PASSWORD=pw\nTRADER_RISK__MAX_OPEN_POSITIONS=3\n")
    assert load_settings().risk.max_open_positions == 3


def test_password_in_database_url_is_masked(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRADER_DATABASE__URL", "postgresql+asyncpg://bot:hunter2@db:5432/trader")
    dumped = masked_dump(load_settings())["database"]["url"]
    assert "hunter2" not in dumped and dumped == "postgresql+asyncpg://bot:********@db:5432/trader"
