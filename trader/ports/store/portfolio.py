"""The portfolio context: basket holdings, the price cache and the daily basket snapshots."""

from __future__ import annotations

from typing import Protocol

from trader.ports.portfolio import PortfolioRepository
from trader.ports.store.transaction import Transaction


class PortfolioUnitOfWork(Transaction, Protocol):
    """What the portfolio service reads and writes (it also reads fills through the whole unit of work)."""

    # Read-only member, so implementations may hold a more specific repository type.
    @property
    def portfolio(self) -> PortfolioRepository: ...
