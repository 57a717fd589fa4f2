"""Building blocks of the in-memory store: transactional tables and value normalisation.

A unit of work sees the shared committed tables through an overlay of its own changes; commit copies
only the touched keys back, rollback drops the overlay. Values are normalised exactly as the SQL store
returns them (money to 18 places, datetimes aware UTC) so both pass the same contract suite.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from trader.adapters.store.columns import quantize_money

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_GONE: Any = object()


class OverlayTable(Generic[K, V]):
    """A dict-like table: reads see committed data plus this transaction's changes."""

    def __init__(self, committed: dict[K, V]) -> None:
        self._committed = committed
        self._changes: dict[K, V] = {}
        self.touched = False  # read or written since the last commit/rollback: "in a transaction"

    def get(self, key: K) -> V | None:
        """Return the value or None."""
        self.touched = True
        value = self._changes.get(key, self._committed.get(key))
        return None if value is _GONE else value

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None  # type: ignore[arg-type]

    def put(self, key: K, value: V) -> None:
        """Set a value in this transaction."""
        self.touched = True
        self._changes[key] = value

    def delete(self, key: K) -> bool:
        """Delete a key in this transaction; return False when absent."""
        present = key in self
        if present:
            self._changes[key] = _GONE
        return present

    def items(self) -> Iterator[tuple[K, V]]:
        """Yield every visible (key, value)."""
        self.touched = True
        for key in {**self._committed, **self._changes}:
            value = self.get(key)
            if value is not None:
                yield key, value

    def values(self) -> list[V]:
        """Return every visible value."""
        return [v for _, v in self.items()]

    def commit(self) -> None:
        """Write the changes to the committed data."""
        for key, value in self._changes.items():
            if value is _GONE:
                self._committed.pop(key, None)
            else:
                self._committed[key] = value
        self._changes = {}
        self.touched = False

    def rollback(self) -> None:
        """Drop the changes."""
        self._changes = {}
        self.touched = False


def utc(moment: datetime) -> datetime:
    """Return ``moment`` in UTC, refusing naive datetimes like the SQL store does."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: timestamps must be UTC-aware")
    return moment.astimezone(UTC)


def normalise(value: Any) -> Any:
    """Return a dataclass (or mapping) with money and datetimes as the SQL store would return them."""
    if isinstance(value, Decimal):
        return quantize_money(value)
    if isinstance(value, float | int | str | bool | bytes | date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: normalise(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value
