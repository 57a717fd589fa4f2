"""Migrations on real SQLite and PostgreSQL: upgrade, downgrade to base, schema equals the ORM."""

from __future__ import annotations

import sqlalchemy as sa

from trader.adapters.store import migrate
from trader.adapters.store.orm import metadata
from trader.adapters.store.sql.uow import Database


async def _tables(url: str) -> set[str]:
    db = Database.from_url(url)
    try:
        async with db.engine.connect() as conn:
            return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))
    finally:
        await db.dispose()


async def _execute(url: str, ddl: str) -> None:
    db = Database.from_url(url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(sa.text(ddl))
    finally:
        await db.dispose()


async def test_upgrade_creates_every_orm_table_and_downgrade_removes_them(db_url: str) -> None:
    assert await migrate.current_revision(db_url) is None
    await migrate.upgrade_async(db_url)
    assert await migrate.current_revision(db_url) == migrate.head_revision()
    assert await _tables(db_url) == set(metadata.tables) | {"alembic_version"}
    await migrate.downgrade_async(db_url, "base")
    assert await migrate.current_revision(db_url) is None
    assert await _tables(db_url) <= {"alembic_version"}
    await migrate.upgrade_async(db_url)  # and up again from base
    assert await migrate.current_revision(db_url) == migrate.head_revision()


async def test_upgrade_twice_is_a_no_op(db_url: str) -> None:
    await migrate.upgrade_async(db_url)
    await migrate.upgrade_async(db_url)
    assert await migrate.current_revision(db_url) == migrate.head_revision()


async def test_migrated_schema_matches_orm_metadata(db_url: str) -> None:
    await migrate.upgrade_async(db_url)
    assert await migrate.schema_diff(db_url) == []


async def test_schema_diff_reports_a_drifted_schema(db_url: str) -> None:
    await migrate.upgrade_async(db_url)
    await _execute(db_url, "DROP INDEX ix_orders_status")
    await _execute(db_url, "ALTER TABLE orders ADD COLUMN junk INTEGER")
    kinds = {entry[0] for entry in await migrate.schema_diff(db_url)}
    assert {"add_index", "remove_column"} <= kinds  # the ORM has the index, the table the extra column
