"""Shared test configuration: real SQLite files and the real local PostgreSQL server.

PostgreSQL tests are required when CI=true (fail if the server is unreachable) and skipped with a
visible reason elsewhere. Fixture plugins live in tests/fixtures/.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = [
    f"tests.fixtures.{p.stem}"
    for p in sorted((Path(__file__).parent / "fixtures").glob("*.py"))
    if p.stem != "__init__"
]

PG_HOST = os.environ.get("TRADER_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TRADER_TEST_PG_PORT", "5432"))
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SAMPLE_DATA = Path(__file__).resolve().parents[1] / "trader" / "data" / "sample"


def _pg_admin_connect():  # type: ignore[no-untyped-def]
    import psycopg2

    conn = psycopg2.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres",
                            connect_timeout=3)
    conn.autocommit = True
    return conn


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """Return an aiosqlite URL for a fresh real SQLite file."""
    return f"sqlite+aiosqlite:///{tmp_path / 'trader.db'}"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[None]:
    """Ensure the PostgreSQL server answers; fail in CI, skip elsewhere."""
    try:
        _pg_admin_connect().close()
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL required in CI but unreachable on {PG_HOST}:{PG_PORT}: {exc}")
        pytest.skip(f"PostgreSQL not reachable on {PG_HOST}:{PG_PORT}: {exc}")
    yield


def _throwaway_database() -> Iterator[str]:
    name = f"trader_test_{uuid.uuid4().hex[:10]}"
    conn = _pg_admin_connect()
    conn.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        conn.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


@pytest.fixture
def pg_url(pg_server: None) -> Iterator[str]:
    """Create a throw-away PostgreSQL database and return its asyncpg URL; dropped afterwards."""
    yield from _throwaway_database()


@pytest.fixture
def second_pg_url(pg_url: str) -> Iterator[str]:
    """Return a second throw-away PostgreSQL database beside ``pg_url`` (a restore target)."""
    yield from _throwaway_database()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Parametrise a test over a real SQLite file and a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'trader.db'}"
    return str(request.getfixturevalue("pg_url"))
