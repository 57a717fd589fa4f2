"""The transaction every unit of work is: rolls back unless ``commit()`` was awaited."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol, Self

JsonValue = Any  # JSON-ready data: dict/list/str/int/float/bool/None; Decimal and datetime become str


class Transaction(Protocol):
    """One transaction; leaving ``async with`` without ``commit()`` rolls everything back."""

    async def __aenter__(self) -> Self:
        """Begin the transaction."""
        ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Roll back whatever was not committed and release the connection."""
        ...

    async def commit(self) -> None:
        """Make every change so far durable; the unit of work stays usable."""
        ...

    async def rollback(self) -> None:
        """Discard every change since the last commit."""
        ...
