"""Save and load the paper account through the store port's paper-state repository (one JSON document)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trader.exchange.paper_venue import PaperExchange
from trader.ports.clock import Clock
from trader.ports.store import UnitOfWork

DEFAULT_KEY = "paper:default"


class PaperStateStore:
    """Persist ``PaperExchange.snapshot()`` under ``key``; pass ``save`` as the exchange's saver."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock, key: str = DEFAULT_KEY) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._key = key

    async def save(self, snapshot: dict[str, Any]) -> None:
        """Write the snapshot and commit."""
        async with self._uow_factory() as uow:
            await uow.paper.put(self._key, snapshot, self._clock.now())
            await uow.commit()

    async def load_into(self, paper: PaperExchange) -> bool:
        """Restore ``paper`` from the saved snapshot; return False when nothing was saved yet."""
        async with self._uow_factory() as uow:
            data = await uow.paper.get(self._key)
        if data is None:
            return False
        paper.restore(data)
        return True
