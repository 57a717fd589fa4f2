"""Refuse a unit of work opened inside another one that still has an open transaction on the same store.

On SQLite every transaction takes the write lock up front (see ``db.py``), so the inner one would wait
for the outer one, which waits for the inner: a hang, then "database is locked". The rule is checked by
the in-memory store too, so a service's fast unit tests catch what would hang in production. Opening one
after the outer committed is fine (persist, commit, then call the exchange).
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Protocol

from trader.core.errors import StoreError


class _Tracked(Protocol):
    @property
    def store_key(self) -> object: ...

    def in_transaction(self) -> bool: ...


_OPEN: ContextVar[tuple[_Tracked, ...]] = ContextVar("trader_open_units_of_work", default=())


def enter(uow: _Tracked) -> Token[tuple[_Tracked, ...]]:
    """Record ``uow`` as open in this task; StoreError if an outer one on its store is mid-transaction."""
    open_now = _OPEN.get()
    if any(other.store_key is uow.store_key and other.in_transaction() for other in open_now):
        raise StoreError(
            "a unit of work was opened while an outer one on the same database has an open transaction; "
            "commit the outer one first or pass it down (on SQLite this would wait forever)"
        )
    return _OPEN.set((*open_now, uow))


def leave(token: Token[tuple[_Tracked, ...]]) -> None:
    """Forget the unit of work recorded by ``enter``."""
    _OPEN.reset(token)
