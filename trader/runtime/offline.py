"""The composition root of the offline commands (`tradebot data`, `db`, `secrets`, `backtest`, `tax`...).

``container.py`` wires the running service; this module builds what a one-shot command needs: the
store (schema upgraded when allowed), a key-less venue for public market data, the chart renderer,
the secret store, migrations and backups. The CLI is a transport over these and the services: it
never names an adapter class (import-linter forbids it), so a command and the service build the same
parts the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Every CLI start imports this module (for ``redact``): the rest loads only in the command that needs it.
from trader.adapters.ops.log_setup import redact as redact  # noqa: PLC0414 - the CLI's output redactor

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

    from trader.adapters.ops.secret_store import SecretStore
    from trader.adapters.store.backup import Cipher, RestoreReport
    from trader.config.sections import ExchangeConfig
    from trader.config.settings import Settings
    from trader.core.analytics.tax.report import CgtReport
    from trader.core.errors import TraderError
    from trader.ports.backup import BackupInfo
    from trader.ports.charts import ChartRenderer
    from trader.ports.clock import Clock
    from trader.ports.exchange import Exchange
    from trader.ports.store import UnitOfWorkFactory


def explain_store_failure(exc: BaseException) -> TraderError | None:
    """Return the one-line explanation of a database failure (read-only, full, corrupt, unreachable)."""
    from trader.adapters.store.failures import explain

    return explain(exc)


@asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[UnitOfWorkFactory]:
    """Yield a unit-of-work factory for the configured database, upgrading the schema if allowed."""
    from trader.adapters.store.migrate import upgrade_async
    from trader.adapters.store.sql.uow import Database

    if settings.database.auto_upgrade:
        await upgrade_async(settings.database.url)
    database = Database.from_config(settings.database)
    try:
        yield database.uow
    finally:
        await database.dispose()


def public_venue(config: ExchangeConfig) -> Exchange:
    """Return a key-less venue client for public market data (candles, tickers); close it after use."""
    from trader.adapters.exchange.ccxt_venue import CcxtExchange

    return CcxtExchange(config, public_only=True)


def public_perpetuals(config: ExchangeConfig) -> Any:
    """Return a key-less client of the venue's linear perpetuals (funding rates); close it after use."""
    from trader.adapters.exchange.ccxt_venue import CcxtExchange

    return CcxtExchange(config, public_only=True, swap=True)


def chart_renderer() -> ChartRenderer:
    """Return the matplotlib chart renderer (imported only by the commands that draw)."""
    from trader.adapters.charts.renderer import MatplotlibChartRenderer

    return MatplotlibChartRenderer()


def tax_summary_png(report: CgtReport) -> bytes:
    """Return the one-page PNG summary of a CGT report (matplotlib is imported only here)."""
    from trader.adapters.charts.tax_summary import render_tax_summary

    return render_tax_summary(report)


def capability_table(venues: tuple[str, ...]) -> tuple[list[dict[str, str]], str]:
    """Return the capability rows of ``venues`` (all supported ones when empty) and their Markdown table."""
    from trader.adapters.exchange.capability_table import SUPPORTED_VENUES, capability_rows, markdown_table

    rows = capability_rows(venues or SUPPORTED_VENUES)
    return rows, markdown_table(rows)


def supported_venues() -> tuple[str, ...]:
    """Return the venues the capability table covers."""
    from trader.adapters.exchange.capability_table import SUPPORTED_VENUES

    return tuple(SUPPORTED_VENUES)


def secret_cipher(settings: Settings) -> MultiFernet:
    """Return the cipher of the configured master keys; SecretError when they are missing or bad."""
    from trader.adapters.ops.secret_store import build_cipher, configured_keys

    return build_cipher(configured_keys(settings.ops))


def secret_names() -> tuple[str, ...]:
    """Return the names a secret may be stored under."""
    from trader.adapters.ops.secret_store import SECRET_FIELDS

    return tuple(SECRET_FIELDS)


def check_secret_name(name: str) -> str:
    """Return ``name`` when a secret may be stored under it; SecretError naming the valid ones."""
    from trader.adapters.ops.secret_store import check_name

    return check_name(name)


def new_secret_key() -> str:
    """Return a fresh master key for ``TRADER_OPS__SECRETS_KEY``."""
    from trader.adapters.ops.secret_store import generate_key

    return generate_key()


def secret_key_count(settings: Settings) -> int:
    """Return how many master keys are configured (older ones may go after a rotation)."""
    from trader.adapters.ops.secret_store import configured_keys

    return len(configured_keys(settings.ops))


def secret_store(uow_factory: UnitOfWorkFactory, cipher: MultiFernet | None, clock: Clock) -> SecretStore:
    """Return the encrypted secret store over ``uow_factory`` (no cipher: list and delete only)."""
    from trader.adapters.ops.secret_store import SecretStore

    return SecretStore(uow_factory, cipher, clock)


async def upgrade(url: str, revision: str = "head") -> str | None:
    """Upgrade the schema at ``url`` to ``revision``; return the revision now current."""
    from trader.adapters.store import migrate

    await migrate.upgrade_async(url, revision)
    return await migrate.current_revision(url)


async def downgrade(url: str, revision: str) -> str | None:
    """Downgrade the schema at ``url`` to ``revision``; return the revision now current."""
    from trader.adapters.store import migrate

    await migrate.downgrade_async(url, revision)
    return await migrate.current_revision(url)


async def revisions(url: str) -> tuple[str | None, str]:
    """Return (current revision of the database at ``url``, newest revision this code knows)."""
    from trader.adapters.store import migrate

    return await migrate.current_revision(url), migrate.head_revision()


def backup(url: str, now: datetime, cipher: Cipher | None, *, path: Path | None = None,
           folder: Path | None = None) -> BackupInfo:
    """Back the database up to ``path``, or into ``folder`` under the scheduled backups' naming."""
    from trader.adapters.store.backup import SqlDatabaseBackup, backup_to

    if path is not None:
        return backup_to(url, path, now, cipher)
    if folder is None:
        raise ValueError("backup needs a path or a folder")
    return SqlDatabaseBackup(url, folder, cipher).take(now)


def restore(source: Path, url: str, cipher: Cipher | None, *, force: bool = False) -> RestoreReport:
    """Restore ``source`` into the database at ``url`` after checking it whole (see store.backup)."""
    from trader.adapters.store.backup import restore_backup

    return restore_backup(source, url, cipher, force=force)


def safe_url(url: str) -> str:
    """Return the database URL with its password hidden, for output."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
