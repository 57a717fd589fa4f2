"""Settings loader: environment (TRADER_ prefix, ``__`` nesting), optional .env and TOML file.

Validation errors become one readable line per problem (field, value, why) in a ConfigError.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from trader.config.sections import (
    BacktestConfig,
    BackupConfig,
    DatabaseConfig,
    ExchangeConfig,
    LoggingConfig,
    NotifyConfig,
    OpsConfig,
    RiskConfig,
    SchedulerConfig,
    StrategyEntry,
    TelegramConfig,
    WebConfig,
)
from trader.errors import ConfigError

_MASK = "********"
_URL_PASSWORD = re.compile(r"(://[^:/@]+:)[^@]+@")


class Settings(BaseSettings):
    """The whole configuration; built once by an entrypoint and split into sections."""

    model_config = SettingsConfigDict(
        env_prefix="TRADER_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        # A shared .env (e.g. docker compose's POSTGRES_PASSWORD) may hold other tools' keys: read only ours.
        dotenv_filtering="only_existing",
        extra="forbid",
        frozen=True,
    )
    toml_file: ClassVar[Path | None] = None

    database: DatabaseConfig = DatabaseConfig()
    exchange: ExchangeConfig = ExchangeConfig()
    telegram: TelegramConfig = TelegramConfig()
    risk: RiskConfig = RiskConfig()
    strategies: tuple[StrategyEntry, ...] = (
        StrategyEntry(name="breakout"),
        StrategyEntry(name="bollinger_reversion"),
    )
    scheduler: SchedulerConfig = SchedulerConfig()
    backtest: BacktestConfig = BacktestConfig()
    notify: NotifyConfig = NotifyConfig()
    logging: LoggingConfig = LoggingConfig()
    ops: OpsConfig = OpsConfig()
    backup: BackupConfig = BackupConfig()
    web: WebConfig = WebConfig()

    @model_validator(mode="after")
    def _encrypted_backups_need_a_key(self) -> Settings:
        if self.backup.encrypt and self.ops.secrets_key is None and not self.ops.secrets_key_file:
            raise ValueError("backup.encrypt needs a secrets key: set TRADER_OPS__SECRETS_KEY or "
                             "ops.secrets_key_file (create one with `tradebot secrets generate-key`)")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Order precedence: init args, environment, .env, then the TOML file."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        if cls.toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls.toml_file))
        return tuple(sources)


def load_settings(toml_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Load and validate settings, raising ConfigError with one readable line per problem."""
    path = Path(toml_file) if toml_file else None
    if path is not None and not path.is_file():
        raise ConfigError([f"config file {path}: not found"])
    Settings.toml_file = path
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_problems(exc)) from None
    except (ValueError, OSError) as exc:  # malformed TOML or .env
        raise ConfigError([f"config: {exc}"]) from None
    finally:
        Settings.toml_file = None


def _problems(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "settings"
        env = "TRADER_" + "__".join(str(p) for p in err["loc"]).upper()
        value = err.get("input")
        shown = _MASK if _looks_secret(field) else repr(value)
        if isinstance(value, dict):
            shown = "{...}"
        why = err["msg"].removeprefix("Value error, ")
        lines.append(f"{field} = {shown}: {why} (env {env})")
    return lines


def _looks_secret(field: str) -> bool:
    return any(word in field for word in ("token", "secret", "key", "password", "apprise"))


def masked_dump(model: BaseModel) -> dict[str, Any]:
    """Return the model as plain data with every secret replaced by a mask."""
    dumped: dict[str, Any] = _mask(model.model_dump(mode="python"))
    return dumped


def _mask(value: Any) -> Any:
    if isinstance(value, str) and "://" in value:
        return _URL_PASSWORD.sub(r"\1" + _MASK + "@", value)
    if isinstance(value, SecretStr):
        return _MASK if value.get_secret_value() else ""
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(v) for v in value]
    return value
