"""Save and load the paper account through the store port's paper-account repository.

A save writes the account core (balances, open orders, prices) under ``key`` and each new fill and
finished order once, under ``key/fill/<n>`` and ``key/order/<n>``: its cost does not grow with the
account's history (the whole account used to be rewritten on every save: 756 KiB at 575 fills).
"""

from __future__ import annotations

from trader.adapters.exchange.paper_venue import PaperChanges, PaperExchange
from trader.ports.clock import Clock
from trader.ports.store import TradingUnitOfWorkFactory

DEFAULT_KEY = "paper:default"


class PaperStateStore:
    """Persist ``PaperExchange.changes()`` under ``key``; pass ``save`` as the exchange's saver."""

    def __init__(self, uow_factory: TradingUnitOfWorkFactory, clock: Clock, key: str = DEFAULT_KEY) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._key = key

    async def save(self, changes: PaperChanges) -> None:
        """Write the core and the new fills and finished orders in one transaction."""
        async with self._uow_factory() as uow:
            await uow.paper_account.save(self._key, changes.core,
                                         list(enumerate(changes.fills, start=changes.first_fill)),
                                         list(enumerate(changes.finished, start=changes.first_order)),
                                         self._clock.now())
            await uow.commit()

    async def load_into(self, paper: PaperExchange) -> bool:
        """Restore ``paper`` from what was saved; return False when nothing was saved yet."""
        async with self._uow_factory() as uow:
            core = await uow.paper_account.core(self._key)
            if core is None:
                return False
            orders, fills = await uow.paper_account.history(self._key)
        paper.restore_saved(core, orders, fills)
        return True
