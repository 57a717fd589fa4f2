"""Turn a database failure into one line saying what is wrong and what to do (``explain``).

Drivers raise their own exceptions (sqlite3, asyncpg, OSError from the socket), usually wrapped by
SQLAlchemy and sometimes by Alembic; the entrypoints call ``explain`` on whatever escaped a command and
print its ``user_message`` instead of a traceback of 50 to 200 lines. Nothing is retried here: a
read-only, full or corrupt database and an unreachable server all need a person.
"""

from __future__ import annotations

import errno
import re
import socket
import sqlite3
from collections.abc import Iterator

from trader.core.errors import StoreError

_WHERE = re.compile(r"Connect call failed \(?'?([^',)]+)'?, (\d+)")
# (pattern in the SQLite message, what is wrong, what to do)
_SQLITE: tuple[tuple[str, str, str], ...] = (
    ("readonly database", "the SQLite database is read-only for this user",
     "give the bot's user write access to the database file and its directory, or set database.url"),
    ("unable to open database file", "the SQLite database file cannot be opened or created",
     "check that its directory exists and the bot's user may write there, or set database.url"),
    ("database or disk is full", "the disk holding the SQLite database is full",
     "free space on that disk (or move the database), then run the command again"),
    ("file is not a database", "the SQLite database file is not a database (corrupt or overwritten)",
     "restore it from a backup (`tradebot db backup` makes them), or move it away to start afresh"),
    ("database disk image is malformed", "the SQLite database file is corrupt",
     "restore it from a backup (`tradebot db backup` makes them), or move it away to start afresh"),
    ("disk i/o error", "reading or writing the SQLite database failed (disk I/O error)",
     "check the disk and the file system, then run the command again"),
)
_UNCHANGED = "nothing was changed"


def explain(exc: BaseException) -> StoreError | None:
    """Return a StoreError with a one-line ``user_message`` for a known database failure, else None."""
    for item in _chain(exc):
        found = _sqlite(item) or _postgres(item) or _os(item)
        if found is not None:
            return StoreError(f"{found}: {type(item).__name__}: {item}", user_message=found)
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """Yield ``exc``, the driver errors SQLAlchemy wraps (``orig``), causes, contexts and group members."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        item = todo.pop(0)
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        orig = getattr(item, "orig", None)
        nested = [orig] if isinstance(orig, BaseException) else []
        if isinstance(item, BaseExceptionGroup):
            nested.extend(item.exceptions)
        # `raise ... from None` says the context is not the story (e.g. a restore that already named
        # the damaged backup): follow it only when it was not suppressed, as tracebacks do
        context = None if item.__suppress_context__ else item.__context__
        nested.extend(e for e in (item.__cause__, context) if e is not None)
        todo.extend(nested)


def _sqlite(item: BaseException) -> str | None:
    if not isinstance(item, sqlite3.Error):
        return None
    text = str(item).lower()
    for pattern, wrong, todo in _SQLITE:
        if pattern in text:
            return f"{wrong}: {todo}; {_UNCHANGED}"
    return None


def _postgres(item: BaseException) -> str | None:
    name = type(item).__name__
    if name in ("InvalidPasswordError", "InvalidAuthorizationSpecificationError"):
        return ("PostgreSQL refused the user or password in database.url: fix the credentials "
                f"(TRADER_DATABASE__URL); {_UNCHANGED}")
    if name == "InvalidCatalogNameError":
        return ("the PostgreSQL database in database.url does not exist: create it (createdb) or fix the "
                f"URL; {_UNCHANGED}")
    return None


def _os(item: BaseException) -> str | None:
    if isinstance(item, ConnectionRefusedError | socket.gaierror | TimeoutError) or (
            isinstance(item, OSError) and "Connect call failed" in str(item)):
        match = _WHERE.search(str(item))
        where = f" at {match.group(1)}:{match.group(2)}" if match else ""
        return (f"the database server{where} is not reachable ({item.strerror or item}): start PostgreSQL "
                f"or fix the host and port in database.url; {_UNCHANGED}")
    if isinstance(item, OSError) and item.errno == errno.ENOSPC:
        return f"the disk holding the database is full: free space, then run the command again; {_UNCHANGED}"
    if isinstance(item, OSError) and item.errno in (errno.EROFS, errno.EACCES, errno.EPERM) and item.filename:
        return (f"{item.filename}: permission denied for this user: give the bot's user access, or set "
                f"database.url / ops.data_dir elsewhere; {_UNCHANGED}")
    return None
