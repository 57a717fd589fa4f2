"""`tradebot db`: upgrade, downgrade, show the revision, back up the database."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trader.config import load_settings
from trader.core.errors import InputError
from trader.runtime import offline


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
    backup = inner.add_parser("backup", help="consistent backup while the service runs")
    backup.add_argument("path", nargs="?", help="target file (default: a new file in the backup folder)")
    backup.add_argument("--to", metavar="DIR",
                        help="backup folder (default: backup.folder or DATA_DIR/backups)")
    backup.add_argument("--encrypt", action="store_true",
                        help="encrypt with the secrets key (always on when backup.encrypt is set)")
    backup.set_defaults(func=_backup)
    restore = inner.add_parser("restore", help="restore a backup into an empty database (checked first)")
    restore.add_argument("file", metavar="FILE")
    restore.add_argument("--force", action="store_true",
                         help="replace a database that already holds data (stop the service first)")
    restore.set_defaults(func=_restore)

# SQLAlchemy and Alembic are imported inside the commands: `tradebot --help` should not pay for them.


async def _upgrade(args: argparse.Namespace) -> int:
    url = load_settings(args.config).database.url
    print(f"database at revision {await offline.upgrade(url, args.revision)} ({offline.safe_url(url)})")
    return 0


async def _downgrade(args: argparse.Namespace) -> int:
    if not args.yes:
        raise InputError(f"downgrading to {args.revision} drops tables and their data; add --yes to confirm")
    url = load_settings(args.config).database.url
    current = await offline.downgrade(url, args.revision)
    print(f"database at revision {current or 'base'} ({offline.safe_url(url)})")
    return 0


async def _current(args: argparse.Namespace) -> int:
    url = load_settings(args.config).database.url
    current, head = await offline.revisions(url)
    state = "up to date" if current == head else "needs `tradebot db upgrade`"
    print(f"database {offline.safe_url(url)}: revision {current or 'none'}; code head {head} ({state})")
    return 0


def _backup(args: argparse.Namespace) -> int:
    from trader.runtime.backups import backup_cipher, backup_folder

    settings = load_settings(args.config)
    cipher = backup_cipher(settings, wanted=args.encrypt)
    now = datetime.now(UTC)
    if args.path:
        info = offline.backup(settings.database.url, now, cipher, path=Path(args.path))
    else:
        folder = Path(args.to) if args.to else backup_folder(settings)
        info = offline.backup(settings.database.url, now, cipher, folder=folder)
    kind = "encrypted " if info.encrypted else ""
    where = offline.safe_url(settings.database.url)
    print(f"backed up {where} to {kind}{info.path} ({info.size_bytes:,} bytes)")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from trader.runtime.backups import backup_cipher

    settings = load_settings(args.config)
    source = Path(args.file)
    if not source.is_file():
        raise InputError(f"no backup file at {source}")
    report = offline.restore(source, settings.database.url, backup_cipher(settings, wanted=False),
                             force=args.force)
    print(f"restored {report.source} into {report.target}; start the service to reconcile with the venue")
    return 0
