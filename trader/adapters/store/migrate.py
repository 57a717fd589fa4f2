"""Run Alembic migrations programmatically (start-up and ``tradebot db upgrade/downgrade``).

The async variants run inside an already running event loop (Alembic gets an open connection); the
sync ones are for the command line. ``schema_diff`` compares the live schema with the ORM metadata.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, make_url

from trader.adapters.store.db import create_engine
from trader.adapters.store.orm import metadata
from trader.config.sections import DatabaseConfig
from trader.core.errors import StoreError

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"


def alembic_config(url: str) -> Config:
    """Return an Alembic Config for our migrations directory and ``url``."""
    if not MIGRATIONS_DIR.is_dir():
        raise StoreError(f"migrations not found at {MIGRATIONS_DIR}: run from a source checkout "
                         "installed with `pip install -e .` (the Docker image does this)")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["url"] = url
    return cfg


def head_revision() -> str:
    """Return the newest revision id shipped with the code."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:
        raise StoreError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


async def upgrade_async(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision`` (default: the newest).

    One INFO line when the schema changed (from and to which revision); a database already at the
    revision is a DEBUG line, since every start checks it. Alembic's own lines are DEBUG
    (``log_setup``).
    """
    revisions: list[str | None] = []

    def _upgrade(conn: Connection, cfg: Config) -> None:
        revisions.append(MigrationContext.configure(conn).get_current_revision())
        command.upgrade(cfg, revision)
        revisions.append(MigrationContext.configure(conn).get_current_revision())

    await _with_connection(url, _upgrade)
    before, after = revisions
    where = make_url(url).render_as_string(hide_password=True)
    if before == after:
        logger.debug("database %s is at revision %s", where, after)
    else:
        logger.info("database %s upgraded from %s to %s", where, before or "empty", after)


async def downgrade_async(url: str, revision: str) -> None:
    """Downgrade the database at ``url`` to ``revision`` ('base' drops every table)."""
    await _with_connection(url, lambda conn, cfg: command.downgrade(cfg, revision))
    logger.info("database downgraded to %s", revision)


async def current_revision(url: str) -> str | None:
    """Return the database's current revision, or None for an empty database."""
    result: list[str | None] = []
    await _with_connection(url, lambda conn, cfg: result.append(
        MigrationContext.configure(conn).get_current_revision()))
    return result[0]


async def schema_diff(url: str) -> list[Any]:
    """Return Alembic's differences between the live schema and the ORM metadata (empty when in sync)."""
    result: list[Any] = []

    def _compare(conn: Connection, _cfg: Config) -> None:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        result.extend(compare_metadata(ctx, metadata))

    await _with_connection(url, _compare)
    return result


def upgrade(url: str, revision: str = "head") -> None:
    """Run ``upgrade_async`` from synchronous code."""
    asyncio.run(upgrade_async(url, revision))


def downgrade(url: str, revision: str) -> None:
    """Run ``downgrade_async`` from synchronous code."""
    asyncio.run(downgrade_async(url, revision))


async def _with_connection(url: str, work: Any) -> None:
    engine = create_engine(DatabaseConfig(url=url))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_in_sync, url, work)
    finally:
        await engine.dispose()


def _in_sync(conn: Connection, url: str, work: Any) -> None:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = conn
    work(conn, cfg)
