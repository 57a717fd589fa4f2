"""Configuration: frozen section models (pure data) and the Settings loader (entrypoints only).

Components receive only their own section; only ``bot.py`` and the CLI call ``load_settings``.
"""

from trader.config.accounts import DEFAULT_LABEL, Account
from trader.config.sections import (
    BacktestConfig,
    BackupConfig,
    BreakerConfig,
    DatabaseConfig,
    DcaConfig,
    ExchangeConfig,
    LoggingConfig,
    NewsConfig,
    NotifyConfig,
    OpsConfig,
    PortfolioConfig,
    PricesConfig,
    RiskConfig,
    SchedulerConfig,
    Section,
    SignalSource,
    StrategyEntry,
    TelegramConfig,
    TelegramUser,
    TrailingConfig,
    VenueConfig,
    WebConfig,
)
from trader.config.settings import Settings, load_settings, masked_dump

__all__ = [
    "DEFAULT_LABEL",
    "Account",
    "BacktestConfig",
    "BackupConfig",
    "BreakerConfig",
    "DatabaseConfig",
    "DcaConfig",
    "ExchangeConfig",
    "LoggingConfig",
    "NewsConfig",
    "NotifyConfig",
    "OpsConfig",
    "PortfolioConfig",
    "PricesConfig",
    "RiskConfig",
    "SchedulerConfig",
    "Section",
    "Settings",
    "SignalSource",
    "StrategyEntry",
    "TelegramConfig",
    "TelegramUser",
    "TrailingConfig",
    "VenueConfig",
    "WebConfig",
    "load_settings",
    "masked_dump",
]
