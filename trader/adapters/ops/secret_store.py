"""Encrypted secrets at rest: exchange API keys and the Telegram token, Fernet-encrypted in the store.

Keys come from ``OpsConfig.secrets_key`` (env ``TRADER_OPS__SECRETS_KEY``, comma-separated, newest first)
or ``OpsConfig.secrets_key_file``. ``cryptography``'s MultiFernet decrypts with any listed key and
encrypts with the first, so rotation is: put the new key first, run ``rotate``, then drop the old key.
Plaintext never reaches the database or the log; ``overlay_settings`` hands it to the settings.
"""

from __future__ import annotations

import logging
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from trader.config import OpsConfig, Settings
from trader.core.errors import SecretError
from trader.ports.clock import Clock
from trader.ports.store import UnitOfWorkFactory

logger = logging.getLogger(__name__)

# Secret name → (settings section, field). One table feeds validation, the overlay and `secrets list`.
SECRET_FIELDS: Final[Mapping[str, tuple[str, str]]] = {
    "exchange.api_key": ("exchange", "api_key"),
    "exchange.api_secret": ("exchange", "api_secret"),
    "exchange.api_password": ("exchange", "api_password"),
    "telegram.token": ("telegram", "token"),
    "telegram.admin_totp_secret": ("telegram", "admin_totp_secret"),
}
# A [[venues]] account's keys: venues.<account name>.api_key (and api_secret, api_password).
VENUE_SECRET: Final = re.compile(r"^venues\.([a-z0-9][a-z0-9_-]{0,31})\.(api_key|api_secret|api_password)$")
KEY_HELP: Final = ("set TRADER_OPS__SECRETS_KEY or ops.secrets_key_file "
                   "(create a key with `tradebot secrets generate-key`)")


@dataclass(frozen=True, slots=True)
class SecretInfo:
    """A stored secret's name and dates; never its value."""

    name: str
    created_at: datetime
    updated_at: datetime


def generate_key() -> str:
    """Return a new random Fernet key (44 url-safe base64 characters)."""
    return Fernet.generate_key().decode("ascii")


def configured_keys(config: OpsConfig) -> list[str]:
    """Return the configured keys, newest first: the env/config value wins over the key file."""
    if config.secrets_key is not None and config.secrets_key.get_secret_value().strip():
        raw, origin = config.secrets_key.get_secret_value(), "TRADER_OPS__SECRETS_KEY"
    elif config.secrets_key_file:
        path = Path(config.secrets_key_file)
        try:
            raw, origin = path.read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise SecretError(f"cannot read the secrets key file {path}: {exc.strerror}") from None
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            logger.warning("secrets key file %s is readable by others; chmod 600 it", path)
    else:
        return []
    keys = [k.strip() for k in raw.replace("\n", ",").split(",") if k.strip()]
    if not keys:
        raise SecretError(f"{origin} is empty; {KEY_HELP}")
    return keys


def build_cipher(keys: list[str]) -> MultiFernet:
    """Return a MultiFernet over ``keys`` (newest first); SecretError names a malformed key by position."""
    if not keys:
        raise SecretError(f"no secrets key configured; {KEY_HELP}")
    fernets = []
    for position, key in enumerate(keys, 1):
        try:
            fernets.append(Fernet(key.encode("ascii")))
        except (ValueError, UnicodeEncodeError):
            raise SecretError(
                f"secrets key #{position} is not a valid Fernet key (44 url-safe base64 characters)"
            ) from None
    return MultiFernet(fernets)


def check_name(name: str) -> str:
    """Return ``name`` if it is a known secret name, else raise SecretError listing the known ones."""
    if name not in SECRET_FIELDS and not VENUE_SECRET.match(name):
        raise SecretError(f"unknown secret {name!r}; known: {', '.join(SECRET_FIELDS)}, "
                          "venues.<account>.api_key/api_secret/api_password")
    return name


class SecretStore:
    """Encrypt, store, decrypt, rotate and delete named secrets through the unit of work.

    Without a cipher (no key configured) only ``stored`` and ``delete`` work.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, cipher: MultiFernet | None, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._cipher_or_none = cipher
        self._clock = clock

    @property
    def _cipher(self) -> MultiFernet:
        if self._cipher_or_none is None:
            raise SecretError(f"no secrets key configured; {KEY_HELP}")
        return self._cipher_or_none

    async def set(self, name: str, value: str) -> None:
        """Encrypt ``value`` with the newest key and store it under ``name`` (replacing any old value)."""
        check_name(name)
        if not value or value != value.strip():
            raise SecretError(f"secret {name}: value is empty or has surrounding whitespace")
        token = self._cipher.encrypt(value.encode("utf-8"))
        async with self._uow_factory() as uow:
            await uow.secrets.put(name, token, self._clock.now())
            await uow.commit()

    async def stored(self) -> list[SecretInfo]:
        """Return every stored secret's name and dates, sorted by name."""
        async with self._uow_factory() as uow:
            records = await uow.secrets.all()
        return [SecretInfo(r.name, r.created_at, r.updated_at) for r in records]

    async def get(self, name: str) -> str | None:
        """Return the decrypted secret, or None when it is not stored."""
        async with self._uow_factory() as uow:
            record = await uow.secrets.get(name)
        return None if record is None else self._decrypt(name, record.ciphertext)

    async def decrypt_all(self) -> dict[str, str]:
        """Return every stored secret decrypted; SecretError names the first one the keys cannot open."""
        async with self._uow_factory() as uow:
            records = await uow.secrets.all()
        return {r.name: self._decrypt(r.name, r.ciphertext) for r in records}

    async def delete(self, name: str) -> bool:
        """Delete a secret; return False when it was not stored."""
        async with self._uow_factory() as uow:
            deleted = await uow.secrets.delete(name)
            await uow.commit()
        return deleted

    async def rotate(self) -> int:
        """Re-encrypt every secret with the newest key in one transaction; return how many."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            records = await uow.secrets.all()
            for record in records:
                try:
                    token = self._cipher.rotate(record.ciphertext)
                except InvalidToken:
                    raise self._wrong_key(record.name) from None
                await uow.secrets.put(record.name, token, now)
            await uow.commit()
        return len(records)

    def _decrypt(self, name: str, token: bytes) -> str:
        try:
            return self._cipher.decrypt(token).decode("utf-8")
        except InvalidToken:
            raise self._wrong_key(name) from None

    @staticmethod
    def _wrong_key(name: str) -> SecretError:
        return SecretError(
            f"cannot decrypt secret {name}: none of the configured keys opens it "
            "(wrong TRADER_OPS__SECRETS_KEY, or the old key was dropped before `tradebot secrets rotate`)"
        )


def overlay_settings(settings: Settings, secrets: Mapping[str, str]) -> Settings:
    """Return settings with decrypted secrets placed into their sections; stored values win."""
    updates: dict[str, dict[str, SecretStr]] = {}
    venue_keys: dict[str, dict[str, SecretStr]] = {}
    for name, value in secrets.items():
        venue = VENUE_SECRET.match(check_name(name))
        if venue is not None:  # kept for an account that is not configured (yet): ignored
            venue_keys.setdefault(venue[1], {})[venue[2]] = SecretStr(value)
            continue
        section, field = SECRET_FIELDS[name]
        if getattr(getattr(settings, section), field) is not None:
            logger.warning("secret %s is set in the environment/config and in the secret store; "
                           "using the secret store", name)
        updates.setdefault(section, {})[field] = SecretStr(value)
    sections: dict[str, object] = {s: getattr(settings, s).model_copy(update=f) for s, f in updates.items()}
    if venue_keys:
        sections["venues"] = tuple(v.model_copy(update=venue_keys.get(v.name, {})) for v in settings.venues)
    return settings.model_copy(update=sections)


async def load_secrets(settings: Settings, uow_factory: UnitOfWorkFactory, clock: Clock) -> dict[str, str]:
    """Start-up: validate the configured keys and decrypt every stored secret (empty when none stored).

    SecretError when a key is malformed, or secrets are stored but no configured key opens them.
    """
    keys = configured_keys(settings.ops)
    cipher = build_cipher(keys) if keys else None
    async with uow_factory() as uow:
        stored = await uow.secrets.all()
    if not stored:
        return {}
    if cipher is None:
        raise SecretError(f"{len(stored)} encrypted secret(s) stored but no key is configured; {KEY_HELP}")
    return await SecretStore(uow_factory, cipher, clock).decrypt_all()
