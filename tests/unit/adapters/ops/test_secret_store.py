"""Secret store: Fernet encryption at rest, key loading, rotation, start-up errors, settings overlay."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from trader.adapters.ops.secret_store import (
    SecretStore,
    build_cipher,
    configured_keys,
    generate_key,
    load_secrets,
    overlay_settings,
)
from trader.adapters.store.memory.uow import MemoryStore
from trader.config import OpsConfig, load_settings, masked_dump
from trader.core.errors import SecretError
from trader.runtime.clock import SimClock

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
API_KEY = "planted-exchange-api-key-4f9a"
TOKEN = "123456:planted-telegram-token-AbC"


def _store(keys: list[str], memory: MemoryStore | None = None) -> tuple[SecretStore, MemoryStore, SimClock]:
    memory = memory or MemoryStore()
    clock = SimClock(T0)
    return SecretStore(memory.uow, build_cipher(keys), clock), memory, clock


async def test_set_then_get_round_trips_and_store_holds_only_ciphertext() -> None:
    store, memory, _ = _store([generate_key()])
    await store.set("exchange.api_key", API_KEY)
    assert await store.get("exchange.api_key") == API_KEY
    assert await store.get("telegram.token") is None
    raw = memory.tables["secrets"]["exchange.api_key"].ciphertext
    assert API_KEY.encode() not in raw
    assert raw.startswith(b"gAAAA")  # a Fernet token


async def test_stored_lists_names_and_dates_never_values() -> None:
    store, _, clock = _store([generate_key()])
    await store.set("telegram.token", TOKEN)
    clock.advance(timedelta(hours=1))
    await store.set("exchange.api_key", API_KEY)
    clock.advance(timedelta(hours=1))
    await store.set("telegram.token", TOKEN + "2")
    infos = await store.stored()
    assert [i.name for i in infos] == ["exchange.api_key", "telegram.token"]
    token_info = infos[1]
    assert token_info.created_at == T0
    assert token_info.updated_at == T0 + timedelta(hours=2)
    assert TOKEN not in repr(infos)


async def test_unknown_name_and_padded_value_are_refused() -> None:
    store, memory, _ = _store([generate_key()])
    expected = re.escape("unknown secret 'exchange.apikey'; known: exchange.api_key")
    with pytest.raises(SecretError, match=expected):
        await store.set("exchange.apikey", API_KEY)
    with pytest.raises(SecretError, match="whitespace"):
        await store.set("telegram.token", TOKEN + "\n")
    with pytest.raises(SecretError, match="empty"):
        await store.set("telegram.token", "")
    assert memory.tables["secrets"] == {}


async def test_delete_reports_whether_it_existed() -> None:
    store, _, _ = _store([generate_key()])
    await store.set("telegram.token", TOKEN)
    assert await store.delete("telegram.token") is True
    assert await store.delete("telegram.token") is False
    assert await store.stored() == []


async def test_rotate_re_encrypts_everything_so_the_old_key_can_be_dropped() -> None:
    old, new = generate_key(), generate_key()
    store, memory, _ = _store([old])
    await store.set("exchange.api_key", API_KEY)
    await store.set("telegram.token", TOKEN)
    before = dict(memory.tables["secrets"])

    rotating, _, _ = _store([new, old], memory)
    assert await rotating.rotate() == 2
    assert all(memory.tables["secrets"][n].ciphertext != before[n].ciphertext for n in before)

    only_new, _, _ = _store([new], memory)
    assert await only_new.decrypt_all() == {"exchange.api_key": API_KEY, "telegram.token": TOKEN}
    only_old, _, _ = _store([old], memory)
    with pytest.raises(SecretError, match=re.escape("cannot decrypt secret exchange.api_key")):
        await only_old.decrypt_all()


async def test_rotate_with_only_a_wrong_key_changes_nothing() -> None:
    store, memory, _ = _store([generate_key()])
    await store.set("telegram.token", TOKEN)
    before = dict(memory.tables["secrets"])
    wrong, _, _ = _store([generate_key()], memory)
    with pytest.raises(SecretError, match=re.escape("telegram.token")):
        await wrong.rotate()
    assert memory.tables["secrets"] == before


def test_malformed_key_is_named_by_position() -> None:
    with pytest.raises(SecretError, match="secrets key #2 is not a valid Fernet key"):
        build_cipher([generate_key(), "not-a-key"])
    with pytest.raises(SecretError, match="no secrets key configured"):
        build_cipher([])


def test_keys_from_env_are_comma_separated_newest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    new, old = generate_key(), generate_key()
    monkeypatch.setenv("TRADER_OPS__SECRETS_KEY", f" {new} , {old} ")
    settings = load_settings()
    assert configured_keys(settings.ops) == [new, old]
    assert new not in str(masked_dump(settings))


def test_keys_from_file_and_env_wins_over_file(tmp_path: Path) -> None:
    a, b, c = generate_key(), generate_key(), generate_key()
    key_file = tmp_path / "secrets.key"
    key_file.write_text(f"{a}\n{b}\n")
    key_file.chmod(0o600)
    assert configured_keys(OpsConfig(secrets_key_file=str(key_file))) == [a, b]
    both = OpsConfig(secrets_key=SecretStr(c), secrets_key_file=str(key_file))
    assert configured_keys(both) == [c]
    assert configured_keys(OpsConfig()) == []


def test_missing_or_empty_key_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="cannot read the secrets key file"):
        configured_keys(OpsConfig(secrets_key_file=str(tmp_path / "absent.key")))
    empty = tmp_path / "empty.key"
    empty.write_text("\n")
    with pytest.raises(SecretError, match="is empty"):
        configured_keys(OpsConfig(secrets_key_file=str(empty)))


def test_world_readable_key_file_is_warned_about(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    key = generate_key()
    key_file = tmp_path / "secrets.key"
    key_file.write_text(key)
    key_file.chmod(0o644)
    configured_keys(OpsConfig(secrets_key_file=str(key_file)))
    assert "chmod 600" in caplog.text
    assert key not in caplog.text


async def test_startup_without_stored_secrets_needs_no_key() -> None:
    memory = MemoryStore()
    assert await load_secrets(load_settings(), memory.uow, SimClock(T0)) == {}


async def test_startup_with_stored_secrets_and_no_key_fails_clearly() -> None:
    store, memory, clock = _store([generate_key()])
    await store.set("telegram.token", TOKEN)
    with pytest.raises(SecretError, match=r"1 encrypted secret\(s\) stored but no key is configured"):
        await load_secrets(load_settings(), memory.uow, clock)


async def test_startup_with_wrong_key_fails_naming_the_secret() -> None:
    store, memory, clock = _store([generate_key()])
    await store.set("exchange.api_key", API_KEY)
    settings = load_settings(ops={"secrets_key": generate_key()})
    with pytest.raises(SecretError, match=re.escape("cannot decrypt secret exchange.api_key")) as info:
        await load_secrets(settings, memory.uow, clock)
    assert API_KEY not in str(info.value)


async def test_startup_with_malformed_key_fails_even_with_nothing_stored() -> None:
    settings = load_settings(ops={"secrets_key": "short"})
    with pytest.raises(SecretError, match="not a valid Fernet key"):
        await load_secrets(settings, MemoryStore().uow, SimClock(T0))


async def test_overlay_puts_decrypted_secrets_into_sections_masked_in_dumps(
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = generate_key()
    store, memory, clock = _store([key])
    await store.set("exchange.api_key", API_KEY)
    await store.set("telegram.token", TOKEN)
    settings = load_settings(ops={"secrets_key": key}, exchange={"api_key": "from-env-key-123"})
    with caplog.at_level(logging.DEBUG):
        secrets = await load_secrets(settings, memory.uow, clock)
        merged = overlay_settings(settings, secrets)
    assert merged.exchange.api_key is not None
    assert merged.exchange.api_key.get_secret_value() == API_KEY
    assert merged.telegram.token is not None
    assert merged.telegram.token.get_secret_value() == TOKEN
    assert merged.exchange.name == settings.exchange.name
    assert merged.risk == settings.risk
    dumped = str(masked_dump(merged))
    assert API_KEY not in dumped
    assert TOKEN not in dumped
    assert "using the secret store" in caplog.text
    assert API_KEY not in caplog.text
    assert TOKEN not in caplog.text
