"""`tradebot secrets` and `tradebot audit` end to end on a real SQLite file and real PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.fixtures.cli_runner import Runner
from trader.adapters.ops.secret_store import generate_key, load_secrets, overlay_settings
from trader.adapters.store.sql.uow import Database
from trader.cli import main
from trader.config import load_settings
from trader.core.errors import SecretError
from trader.runtime.clock import SystemClock

API_SECRET = "planted-cli-api-secret-8c7d6e5f"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no stray .env from the working directory
    key = generate_key()
    monkeypatch.setenv("TRADER_DATABASE__URL", db_url)
    monkeypatch.setenv("TRADER_OPS__SECRETS_KEY", key)
    return {"key": key, "url": db_url}




def test_set_list_rotate_delete_and_audit(
    env: dict[str, str], cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = cli(["secrets", "set", "exchange.api_secret"], API_SECRET + "\n")
    assert (code, out.strip()) == (0, "stored exchange.api_secret (encrypted)"), err

    code, out, _ = cli(["secrets", "list"])
    assert code == 0
    assert "exchange.api_secret" in out
    assert API_SECRET not in out

    sqlite_file = make_url(env["url"]).database
    if env["url"].startswith("sqlite") and sqlite_file:
        assert API_SECRET.encode() not in Path(sqlite_file).read_bytes()

    new = generate_key()
    monkeypatch.setenv("TRADER_OPS__SECRETS_KEY", f"{new},{env['key']}")
    code, out, _ = cli(["secrets", "rotate"])
    assert code == 0
    assert "re-encrypted 1 secret(s)" in out
    monkeypatch.setenv("TRADER_OPS__SECRETS_KEY", new)  # the old key is gone: still decrypts
    settings = load_settings()
    database = Database.from_config(settings.database)
    try:
        secrets = asyncio.run(load_secrets(settings, database.uow, SystemClock()))
    finally:
        asyncio.run(database.dispose())
    merged = overlay_settings(settings, secrets)
    assert merged.exchange.api_secret is not None
    assert merged.exchange.api_secret.get_secret_value() == API_SECRET

    code, out, _ = cli(["secrets", "delete", "exchange.api_secret"])
    assert (code, out.strip()) == (0, "deleted exchange.api_secret")
    code, _, err = cli(["secrets", "delete", "exchange.api_secret"])
    assert code == 1
    assert "was not stored" in err

    code, out, _ = cli(["audit", "--action", "secrets", "--limit", "10"])
    assert code == 0
    lines = out.splitlines()[1:]
    assert [line.split()[3] for line in lines] == ["secrets.delete", "secrets.delete", "secrets.rotate",
                                                   "secrets.set"]
    assert "not stored" in lines[0]
    assert API_SECRET not in out


def test_set_with_wrong_key_format_fails_before_reading(
    env: dict[str, str], cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADER_OPS__SECRETS_KEY", "not-a-fernet-key")
    code, _, err = cli(["secrets", "set", "telegram.token"], "123:abc\n")
    assert code == 1
    assert "secrets key #1 is not a valid Fernet key" in err


def test_unknown_name_and_empty_stdin_are_refused(env: dict[str, str], cli: Runner) -> None:
    code, _, err = cli(["secrets", "set", "telegram.tokn"], "x\n")
    assert code == 1
    assert "unknown secret 'telegram.tokn'" in err
    code, _, err = cli(["secrets", "set", "telegram.token"], "\n")
    assert code == 1
    assert "no value given for telegram.token" in err


def test_value_is_never_accepted_on_the_command_line(env: dict[str, str]) -> None:
    with pytest.raises(SystemExit):
        main(["secrets", "set", "telegram.token", "123:abc"])


def test_startup_with_wrong_key_is_a_secret_error(
    env: dict[str, str], cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli(["secrets", "set", "telegram.token"], "123456:AAtoken\n")[0] == 0
    monkeypatch.setenv("TRADER_OPS__SECRETS_KEY", generate_key())
    settings = load_settings()
    database = Database.from_config(settings.database)
    try:
        with pytest.raises(SecretError, match="cannot decrypt secret telegram"):
            asyncio.run(load_secrets(settings, database.uow, SystemClock()))
    finally:
        asyncio.run(database.dispose())


def test_generate_key_prints_a_usable_key(cli: Runner) -> None:
    code, out, _ = cli(["secrets", "generate-key"])
    assert code == 0
    assert len(out.strip()) == 44


def test_audit_limit_is_validated(env: dict[str, str], cli: Runner) -> None:
    code, _, err = cli(["audit", "--limit", "0"])
    assert code == 1
    assert "--limit must be between 1 and 10000" in err


def test_totp_setup_stores_the_secret_prints_its_uri_and_writes_a_private_qr_png(
        env: dict[str, str], cli: Runner, tmp_path: Path) -> None:
    from urllib.parse import parse_qs, urlsplit

    import pyotp

    qr = tmp_path / "qr" / "totp.png"
    code, out, err = cli(["secrets", "totp-setup", "--account", "alice", "--qr", str(qr)])
    assert code == 0, err
    uri = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("provisioning URI"))
    assert uri.startswith("otpauth://totp/tradebot:alice?")
    secret = parse_qs(urlsplit(uri).query)["secret"][0]
    assert qr.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and qr.stat().st_mode & 0o077 == 0
    settings = load_settings()
    stored = asyncio.run(_stored(settings))
    assert stored["telegram.admin_totp_secret"] == secret  # what the service will check codes against
    assert pyotp.TOTP(secret).verify(pyotp.TOTP(secret).now())


def test_totp_setup_without_a_secrets_key_says_how_to_make_one(
        env: dict[str, str], cli: Runner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TRADER_OPS__SECRETS_KEY")
    code, _, err = cli(["secrets", "totp-setup", "--qr", str(tmp_path / "x.png")])
    assert code == 1 and "secrets key" in err and "generate-key" in err
    assert not (tmp_path / "x.png").exists()


async def _stored(settings: object) -> dict[str, str]:
    from trader.config import Settings

    assert isinstance(settings, Settings)
    db = Database.from_config(settings.database)
    try:
        return await load_secrets(settings, db.uow_factory, SystemClock())
    finally:
        await db.dispose()
