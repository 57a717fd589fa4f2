"""Settings loader: environment (TRADER_ prefix, ``__`` nesting), optional .env and TOML file.

Validation errors become one readable line per problem (field, value, why) in a ConfigError. A
``TRADER_`` variable (in the environment or .env) naming no section or field is a problem too, with
the closest valid name: pydantic-settings would silently ignore the typo.
"""

from __future__ import annotations

import difflib
import os
import re
import types
import typing
from pathlib import Path
from typing import Any, ClassVar, Literal

from dotenv import dotenv_values
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from trader.config.accounts import Account, venue_accounts, venue_problems
from trader.config.sections import (
    BacktestConfig,
    BackupConfig,
    BreakerConfig,
    DatabaseConfig,
    ExchangeConfig,
    LoggingConfig,
    NewsConfig,
    NotifyConfig,
    OpsConfig,
    PortfolioConfig,
    PricesConfig,
    RiskConfig,
    SchedulerConfig,
    StrategyEntry,
    TelegramConfig,
    VenueConfig,
    WebConfig,
)
from trader.core.errors import ConfigError

_MASK = "********"
ENV_PREFIX = "TRADER_"
# Variables under our prefix that are not settings: the test suite's PostgreSQL location, and what
# `tradebot ctl` reads (the API token and the service's URL), which a shell exports for every command.
CTL_TOKEN_ENV = "TRADER_API_TOKEN"  # noqa: S105 - the name of the variable, not a token
CTL_URL_ENV = "TRADER_CTL_URL"
_NOT_SETTINGS = ("TRADER_TEST_",)
_NOT_SETTINGS_NAMES = frozenset({CTL_TOKEN_ENV, CTL_URL_ENV})
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
    venues: tuple[VenueConfig, ...] = Field(default=(), description=(
        "Venue accounts of a service trading several (`[[venues]]`, see docs/exchanges.md); a field left "
        "out takes `[exchange]`'s value, strategies name their account with `venue`."))
    scheduler: SchedulerConfig = SchedulerConfig()
    breaker: BreakerConfig = BreakerConfig()
    backtest: BacktestConfig = BacktestConfig()
    notify: NotifyConfig = NotifyConfig()
    logging: LoggingConfig = LoggingConfig()
    ops: OpsConfig = OpsConfig()
    backup: BackupConfig = BackupConfig()
    news: NewsConfig = NewsConfig()
    portfolio: PortfolioConfig = PortfolioConfig()
    prices: PricesConfig = PricesConfig()
    web: WebConfig = WebConfig()

    @field_validator("strategies")
    @classmethod
    def _some_strategy_runs(cls, v: tuple[StrategyEntry, ...]) -> tuple[StrategyEntry, ...]:
        if not v:
            raise ValueError('no strategy is configured; name at least one, e.g. '
                             'TRADER_STRATEGIES=\'[{"name": "breakout"}]\' (see `tradebot strategies`)')
        names = [e.name for e in v]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"each strategy may be listed once: {', '.join(twice)} appears twice")
        return v

    @model_validator(mode="after")
    def _one_market_per_account(self) -> Settings:
        # One account trades one wallet: the spot account or the USDT-margined futures account. With
        # [[venues]] each account names its market and its strategies must match it (config.accounts).
        if not self.venues and len({e.market for e in self.strategies}) > 1:
            raise ValueError("all strategies of one service trade the same market type (spot or swap); "
                             "run a second service for the other, or give each its own [[venues]] account")
        return self

    @property
    def market_type(self) -> Literal["spot", "swap"]:
        """Return what the primary account's pairs refer to: spot markets or their linear perpetuals."""
        return "swap" if self.accounts()[0].market == "swap" else "spot"

    @model_validator(mode="after")
    def _venues_fit(self) -> Settings:
        problems = venue_problems(self.exchange, self.strategies, self.venues)
        if self.venues and not self.database.url.startswith("sqlite"):
            problems += [f"venues ({v.name}): set database_url (each account keeps its own store; only a "
                         "SQLite one is derived)" for v in self.venues[1:] if v.database_url is None]
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def accounts(self) -> tuple[Account, ...]:
        """Return the venue accounts this service trades, the primary first (see ``config.accounts``)."""
        return venue_accounts(self.exchange, self.strategies, self.venues)

    @model_validator(mode="after")
    def _one_leverage_per_pair(self) -> Settings:
        # The venue holds one leverage and margin mode per perpetual, whichever strategy trades it.
        # Per account: two venue accounts hold their own settings for the same pair.
        seen: dict[tuple[str, str], tuple[str, int, str]] = {}
        for account in self.accounts():
            for entry in account.strategies:
                for pair in entry.pairs or account.exchange.pairs:
                    first = seen.setdefault((account.label, pair), (entry.name, entry.leverage,
                                                                    entry.margin_mode))
                    if entry.market == "swap" and first[1:] != (entry.leverage, entry.margin_mode):
                        raise ValueError(f"{pair}: {first[0]} trades it at {first[1]}x {first[2]}, "
                                         f"{entry.name} at {entry.leverage}x {entry.margin_mode}; the venue "
                                         "holds one setting")
        return self

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
        unknown = unknown_env_names(_env_names())
        if unknown:
            raise ConfigError(unknown)
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_problems(exc)) from None
    except (ValueError, OSError) as exc:  # malformed TOML or .env
        raise ConfigError([f"config: {exc}"]) from None
    finally:
        Settings.toml_file = None


def _env_names() -> list[str]:
    """Return the TRADER_ names set in the environment and in the .env file Settings reads."""
    names = [k for k in os.environ if k.upper().startswith(ENV_PREFIX)]
    env_file = Settings.model_config.get("env_file")
    if isinstance(env_file, str) and Path(env_file).is_file():
        names += [k for k in dotenv_values(env_file) if k.upper().startswith(ENV_PREFIX)]
    return sorted(set(names))


def _model_in(annotation: object) -> type[BaseModel] | None:
    """Return the settings section class inside ``annotation`` (``X``, ``X | None``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return next((m for m in map(_model_in, typing.get_args(annotation)) if m is not None), None)
    return None


def unknown_env_names(names: list[str], model: type[BaseModel] | None = None) -> list[str]:
    """Return one problem per ``TRADER_`` name that names no section or field, with the closest name.

    ``TRADER_RISKK__MAX_OPEN_POSITIONS`` -> "... (did you mean TRADER_RISK__MAX_OPEN_POSITIONS?)".
    """
    problems = []
    for name in names:
        if name.upper().startswith(_NOT_SETTINGS) or name.upper() in _NOT_SETTINGS_NAMES:
            continue
        parts = name[len(ENV_PREFIX):].lower().split("__")
        current: type[BaseModel] | None = model or Settings
        known: list[str] = []
        for i, part in enumerate(parts):
            fields = current.model_fields if current is not None else {}
            if part not in fields:
                where = "section" if i == 0 else f"field of {'.'.join(known)}"
                options = list(fields)
                guess = difflib.get_close_matches(part, options, n=1, cutoff=0.5)
                fixed = [*known, guess[0], *parts[i + 1:]] if guess else None
                hint = f" (did you mean {ENV_PREFIX}{'__'.join(fixed).upper()}?)" if fixed else \
                    f" (valid: {', '.join(options)})" if options else " (it has no fields)"
                problems.append(f"{name}: no {where} named {part!r}{hint}")
                break
            known.append(part)
            current = _model_in(fields[part].annotation)
    return problems


def _problems(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "settings"
        env = "TRADER_" + "__".join(str(p) for p in err["loc"]).upper()
        value = err.get("input")
        shown = _MASK if _looks_secret(field) else repr(value)
        if isinstance(value, dict | list | tuple):
            shown = "{...}"  # a section or list of them may hold keys
        why = err["msg"].removeprefix("Value error, ")
        if not err["loc"]:  # a check across sections: its message names the fields
            lines += why.split("\n")
            continue
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
