"""Consistent database backups and checked restores, SQLite and PostgreSQL.

SQLite uses its online backup API (a consistent snapshot while the service writes); PostgreSQL uses
``pg_dump --format=custom`` and ``pg_restore`` from the client tools, since a logical dump is the only
consistent copy a client can take. A backup may be encrypted with the secrets key (Fernet): the file is
then ``MAGIC`` followed by one Fernet token. Fernet is not a streaming format, so an encrypted backup is
held in memory once; that is fine for this store's sizes (tens of MB) and is said in docs/deploy.md.
A restore checks the whole file first (decrypts, integrity check or ``pg_restore --list``, the Alembic
table present) and writes nothing when any check fails; it refuses a non-empty target unless forced,
and a database a running instance holds.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Protocol

from sqlalchemy.engine import make_url

from trader.adapters.store.db import sqlite_path
from trader.adapters.store.locks import ADVISORY_KEY
from trader.core.errors import StoreError
from trader.ports.backup import BackupInfo

MAGIC: Final = b"TRADEBOT-BACKUP-FERNET-1\n"
SQLITE_HEADER: Final = b"SQLite format 3\x00"
PG_DUMP_HEADER: Final = b"PGDMP"
PREFIX: Final = "trader-"
_SUFFIXES: Final = (".db", ".dump", ".db.enc", ".dump.enc")
_TOOL_TIMEOUT: Final = 3600.0
_CLIENT_HELP: Final = ("install the PostgreSQL client tools matching the server's major version "
                       "(Debian: apt-get install postgresql-client)")


class Cipher(Protocol):
    """Symmetric encryption of whole byte strings (``cryptography``'s Fernet/MultiFernet)."""

    def encrypt(self, data: bytes) -> bytes:
        """Return the token for ``data``."""
        ...

    def decrypt(self, token: bytes) -> bytes:
        """Return the plaintext of ``token``; raise on a wrong key or a damaged token."""
        ...


@dataclass(frozen=True, slots=True)
class RestoreReport:
    """What a restore did: the source file, the target database (password hidden), its kind."""

    source: Path
    target: str
    kind: str


class SqlDatabaseBackup:
    """Backups of one database URL into one folder (implements ``ports.backup.DatabaseBackup``)."""

    def __init__(self, url: str, folder: Path, cipher: Cipher | None = None) -> None:
        self._url = url
        self._folder = folder
        self._cipher = cipher

    def take(self, now: datetime) -> BackupInfo:
        """Write ``trader-<UTC time>.db|.dump[.enc]`` into the folder; never overwrite a file."""
        suffix = ".db" if sqlite_path(self._url) is not None else ".dump"
        name = f"{PREFIX}{now.astimezone(UTC):%Y%m%d-%H%M%S}{suffix}"
        return backup_to(self._url, self._folder / name, now, self._cipher)

    def latest(self) -> BackupInfo | None:
        """Return the newest backup file in the folder, its time read from its name."""
        found = sorted(backup_files(self._folder), key=lambda p: p.name, reverse=True)
        for path in found:
            stamp = path.name.removeprefix(PREFIX)[:15]
            try:
                taken = datetime.strptime(stamp, "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
            except ValueError:
                continue
            return BackupInfo(path, path.stat().st_size, taken, path.name.endswith(".enc"))
        return None

    def prune(self, keep: int) -> list[Path]:
        """Delete all but the newest ``keep`` backup files in the folder; return the deleted paths."""
        found = sorted(backup_files(self._folder), key=lambda p: p.name, reverse=True)
        doomed = found[keep:]
        for path in doomed:
            path.unlink(missing_ok=True)
        return doomed


def backup_files(folder: Path) -> list[Path]:
    """Return the backup files (``trader-*`` with a backup suffix) in ``folder``."""
    if not folder.is_dir():
        return []
    return [p for p in folder.iterdir() if p.name.startswith(PREFIX) and p.name.endswith(_SUFFIXES)]


def backup_to(url: str, target: Path, now: datetime, cipher: Cipher | None = None) -> BackupInfo:
    """Back up the database at ``url`` into ``target`` (``.enc`` appended when encrypting)."""
    if cipher is not None and not target.name.endswith(".enc"):
        target = target.with_name(target.name + ".enc")
    if target.exists():
        raise StoreError(f"{target} exists; backups never overwrite, choose another name")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the backup folder {target.parent}: {exc.strerror}") from None
    partial = target.with_name(target.name + ".partial")
    try:
        source = sqlite_path(url)
        if source is not None:
            _sqlite_backup(source, partial)
        else:
            _pg_dump(url, partial)
        if cipher is not None:
            partial.write_bytes(MAGIC + cipher.encrypt(partial.read_bytes()))
        _fsync(partial)
        partial.rename(target)  # atomic: a crash never leaves a half file under the final name
    except OSError as exc:
        raise StoreError(f"backup to {target} failed: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return BackupInfo(target, target.stat().st_size, now, cipher is not None)


def restore_backup(source: Path, url: str, cipher: Cipher | None = None, *, force: bool = False
                   ) -> RestoreReport:
    """Check ``source`` whole, then restore it into the database at ``url``; StoreError changes nothing."""
    if not source.is_file():
        raise StoreError(f"no backup file at {source}")
    with _plain_copy(source, cipher) as plain:
        head = plain.read_bytes()[:16]
        target_file = sqlite_path(url)
        if target_file is not None:
            if not head.startswith(SQLITE_HEADER):
                raise StoreError(f"{source} is not an SQLite backup of tradebot (the target is SQLite)")
            _check_sqlite(plain, source)
            _restore_sqlite(plain, target_file, force=force)
            return RestoreReport(source, str(target_file), "sqlite")
        if not head.startswith(PG_DUMP_HEADER):
            raise StoreError(f"{source} is not a pg_dump custom-format backup (the target is PostgreSQL)")
        _check_pg_dump(plain, source)
        _restore_pg(plain, url, force=force)
    return RestoreReport(source, make_url(url).render_as_string(hide_password=True), "postgresql")


# ── SQLite ───────────────────────────────────────────────────────────────────────────────────
def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.is_file():
        raise StoreError(f"no database file at {source}; nothing to back up")
    try:
        # a read-write open: a read-only one cannot join a WAL database reliably
        src = sqlite3.connect(source)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    except sqlite3.Error as exc:
        raise StoreError(f"SQLite backup of {source} failed: {exc}") from None


def _check_sqlite(plain: Path, shown: Path) -> None:
    try:
        conn = sqlite3.connect(f"file:{plain}?mode=ro", uri=True)
        try:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"{shown} is damaged or truncated ({exc}); nothing was restored") from None
    if verdict is None or verdict[0] != "ok":
        raise StoreError(f"{shown} fails SQLite's integrity check; nothing was restored")
    if "alembic_version" not in tables:
        raise StoreError(f"{shown} is an SQLite file but not a tradebot database; nothing was restored")


def _sqlite_tables(path: Path) -> set[str]:
    if not path.exists():
        return set()
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            conn.close()
    except sqlite3.Error:
        return {"<unreadable>"}  # an unreadable file is not empty: only --force replaces it


def _restore_sqlite(plain: Path, target: Path, *, force: bool) -> None:
    if _sqlite_tables(target) and not force:
        raise StoreError(f"{target} already holds a database; restore into an empty one or add --force "
                         "(the current database is replaced)")
    lock = target.with_name(target.name + ".lock")
    target.parent.mkdir(parents=True, exist_ok=True)
    with _sqlite_lock_free(lock, target):
        staged = target.with_name(target.name + ".restoring")
        staged.unlink(missing_ok=True)
        src = sqlite3.connect(f"file:{plain}?mode=ro", uri=True)
        dst = sqlite3.connect(staged)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        _fsync(staged)
        for side in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
            side.unlink(missing_ok=True)  # a leftover WAL would be replayed over the restored file
        staged.replace(target)


@contextlib.contextmanager
def _sqlite_lock_free(lock: Path, target: Path) -> Iterator[None]:
    """Hold the single-instance lock while restoring, so no service starts on a half-restored file."""
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(f"a running instance uses {target}; stop it before restoring") from None
        yield
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# ── PostgreSQL ───────────────────────────────────────────────────────────────────────────────
def _pg_args(url: str) -> tuple[list[str], dict[str, str], str]:
    """Return libpq connection arguments, an environment with the password, and the database name."""
    parsed = make_url(url)
    args = ["--host", parsed.host or "localhost", "--port", str(parsed.port or 5432),
            "--username", parsed.username or "postgres"]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)  # the environment, not argv: argv shows in `ps`
    return args, env, parsed.database or "postgres"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise StoreError(f"{name} not found on PATH; {_CLIENT_HELP}")
    return found


def _run(argv: list[str], env: dict[str, str], what: str) -> str:
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True,  # noqa: S603 (fixed argv)
                              timeout=_TOOL_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise StoreError(f"{what} timed out") from None
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
        raise StoreError(f"{what} failed: {lines[-1] if lines else f'exit code {done.returncode}'}")
    return done.stdout


def _pg_dump(url: str, target: Path) -> None:
    args, env, db = _pg_args(url)
    _run([_tool("pg_dump"), "--format=custom", *args, "--file", str(target), db], env,
         f"pg_dump of {db}")


def _check_pg_dump(plain: Path, shown: Path) -> None:
    try:
        listing = _run([_tool("pg_restore"), "--list", str(plain)], dict(os.environ), "pg_restore --list")
    except StoreError as exc:
        raise StoreError(f"{shown} is damaged or truncated ({exc}); nothing was restored") from None
    if "alembic_version" not in listing:
        raise StoreError(f"{shown} is a PostgreSQL dump but not of a tradebot database; nothing was restored")


def _psql_value(url: str, sql: str) -> str:
    args, env, db = _pg_args(url)
    return _run([_tool("psql"), *args, "--dbname", db, "--tuples-only", "--no-align", "--command", sql],
                env, "psql").strip()


def _restore_pg(plain: Path, url: str, *, force: bool) -> None:
    tables = int(_psql_value(url, "SELECT count(*) FROM information_schema.tables "
                                  "WHERE table_schema = 'public'") or 0)
    if tables and not force:
        raise StoreError("the target PostgreSQL database is not empty; restore into an empty one or add "
                         "--force (its tables are replaced)")
    # pg_try_advisory_lock in a one-shot session: true means no running instance holds the lock
    if _psql_value(url, f"SELECT pg_try_advisory_lock({ADVISORY_KEY})") != "t":
        raise StoreError("a running instance uses the target database; stop it before restoring")
    args, env, db = _pg_args(url)
    clean = ["--clean", "--if-exists"] if force else []
    # one transaction: a failing restore leaves the database as it was
    _run([_tool("pg_restore"), *args, "--dbname", db, "--no-owner", "--no-privileges", "--exit-on-error",
          "--single-transaction", *clean, str(plain)], env, "pg_restore")


# ── shared ───────────────────────────────────────────────────────────────────────────────────
@contextlib.contextmanager
def _plain_copy(source: Path, cipher: Cipher | None) -> Iterator[Path]:
    """Yield an unencrypted path for ``source`` (a decrypted temporary copy when it is encrypted)."""
    with source.open("rb") as handle:
        encrypted = handle.read(len(MAGIC)) == MAGIC
    if not encrypted:
        yield source
        return
    if cipher is None:
        raise StoreError(f"{source} is encrypted; set the secrets key it was made with "
                         "(TRADER_OPS__SECRETS_KEY or ops.secrets_key_file)")
    try:
        plain_bytes = cipher.decrypt(source.read_bytes()[len(MAGIC):])
    except Exception:  # cryptography raises InvalidToken for a wrong key and for damage alike
        raise StoreError(f"cannot decrypt {source}: wrong secrets key, or the file is damaged or "
                         "truncated; nothing was restored") from None
    with tempfile.TemporaryDirectory(prefix="tradebot-restore-") as folder:
        plain = Path(folder) / "backup"
        plain.write_bytes(plain_bytes)
        yield plain


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
