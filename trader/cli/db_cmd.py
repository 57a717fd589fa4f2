"""`tradebot db`: upgrade, downgrade, show the revision, back up the database."""

from __future__ import annotations

import argparse
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trader.config import load_settings
from trader.errors import InputError, StoreError


def register(sub: Any) -> None:
    """Add the `db` command group."""
    parser: argparse.ArgumentParser = sub.add_parser("db", help="database schema and backups")
    inner = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = inner.add_parser("upgrade", help="apply migrations (default: to the newest revision)")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=_upgrade)
    down = inner.add_parser("downgrade", help="revert migrations to REV ('base' drops every table)")
    down.add_argument("revision", metavar="REV")
    down.add_argument("--yes", action="store_true", help="confirm: data in dropped tables is lost")
    down.set_defaults(func=_downgrade)
    inner.add_parser("current", help="show the database and code revisions").set_defaults(func=_current)
    backup = inner.add_parser("backup", help="copy the SQLite database safely while the bot runs")
    backup.add_argument("path", nargs="?", help="target file (default: DATA_DIR/backups/trader-<UTC>.db)")
    backup.set_defaults(func=_backup)


# SQLAlchemy and Alembic are imported inside the commands: `tradebot --help` should not pay for them.


async def _upgrade(args: argparse.Namespace) -> int:
    from trader.store import migrate

    url = load_settings(args.config).database.url
    await migrate.upgrade_async(url, args.revision)
    print(f"database at revision {await migrate.current_revision(url)} ({_safe(url)})")
    return 0


async def _downgrade(args: argparse.Namespace) -> int:
    from trader.store import migrate

    if not args.yes:
        raise InputError(f"downgrading to {args.revision} drops tables and their data; add --yes to confirm")
    url = load_settings(args.config).database.url
    await migrate.downgrade_async(url, args.revision)
    print(f"database at revision {await migrate.current_revision(url) or 'base'} ({_safe(url)})")
    return 0


async def _current(args: argparse.Namespace) -> int:
    from trader.store import migrate

    url = load_settings(args.config).database.url
    current = await migrate.current_revision(url)
    head = migrate.head_revision()
    state = "up to date" if current == head else "needs `tradebot db upgrade`"
    print(f"database {_safe(url)}: revision {current or 'none'}; code head {head} ({state})")
    return 0


def _backup(args: argparse.Namespace) -> int:
    from trader.store.db import sqlite_path

    settings = load_settings(args.config)
    url = settings.database.url
    source = sqlite_path(url)
    if source is None:
        print(_pg_dump_help(url))
        return 1
    if not source.is_file():
        raise StoreError(f"no database file at {source}; nothing to back up")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    target = Path(args.path) if args.path else Path(settings.ops.data_dir) / "backups" / f"trader-{stamp}.db"
    if target.exists():
        raise InputError(f"{target} exists; choose another path (backups never overwrite)")
    target.parent.mkdir(parents=True, exist_ok=True)
    copy_sqlite(source, target)
    print(f"backed up {source} to {target} ({target.stat().st_size:,} bytes)")
    return 0


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy a live SQLite database with the online backup API (consistent even during writes)."""
    src = sqlite3.connect(source)  # read-write open: a read-only one cannot join a WAL database reliably
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _pg_dump_help(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return (
        "PostgreSQL is backed up with its own tools; no backup was made. For example:\n"
        f"  pg_dump --format=custom --host {parsed.host or 'localhost'} --port {parsed.port or 5432} "
        f"--username {parsed.username or 'postgres'} --file trader-$(date -u +%Y%m%d-%H%M%S).dump "
        f"{parsed.database}\n"
        "Restore with: pg_restore --clean --dbname <database> <file>.dump"
    )


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
