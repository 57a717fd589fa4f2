"""Save and load the paper account through the store port's paper-state repository.

A save writes the account core (balances, open orders, prices) under ``key`` and each new fill and
finished order once, under ``key/fill/<n>`` and ``key/order/<n>``: its cost does not grow with the
account's history (the whole account used to be rewritten on every save: 756 KiB at 575 fills).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trader.adapters.exchange.paper_venue import PaperChanges, PaperExchange
from trader.core.errors import DataError
from trader.ports.clock import Clock
from trader.ports.store import UnitOfWork

DEFAULT_KEY = "paper:default"


class PaperStateStore:
    """Persist ``PaperExchange.changes()`` under ``key``; pass ``save`` as the exchange's saver."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock, key: str = DEFAULT_KEY) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._key = key

    async def save(self, changes: PaperChanges) -> None:
        """Write the core and the new fills and finished orders in one transaction."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            for number, fill in enumerate(changes.fills, start=changes.first_fill):
                await uow.paper.put(self._item("fill", number), fill, now)
            for number, order in enumerate(changes.finished, start=changes.first_order):
                await uow.paper.put(self._item("order", number), order, now)
            await uow.paper.put(self._key, changes.core, now)
            await uow.commit()

    async def load_into(self, paper: PaperExchange) -> bool:
        """Restore ``paper`` from what was saved; return False when nothing was saved yet."""
        async with self._uow_factory() as uow:
            core = await uow.paper.get(self._key)
            if core is None:
                return False
            orders = await uow.paper.scan(f"{self._key}/order/")
            fills = await uow.paper.scan(f"{self._key}/fill/")
        paper.restore_saved(_doc(core), [_doc(doc) for _, doc in sorted(orders)],
                            [_doc(doc) for _, doc in sorted(fills)])
        return True

    def _item(self, kind: str, number: int) -> str:
        return f"{self._key}/{kind}/{number:010d}"  # zero-padded: key order is save order


def _doc(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DataError(f"paper state document is {type(value).__name__}, not an object")
    return value
