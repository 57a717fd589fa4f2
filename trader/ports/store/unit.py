"""The whole unit of work (every context in one transaction) and the factories services receive."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from trader.ports.store.ops import OpsUnitOfWork
from trader.ports.store.portfolio import PortfolioUnitOfWork
from trader.ports.store.research import ResearchUnitOfWork
from trader.ports.store.tax import TaxUnitOfWork
from trader.ports.store.trading import TradingUnitOfWork


class UnitOfWork(TradingUnitOfWork, OpsUnitOfWork, ResearchUnitOfWork, TaxUnitOfWork, PortfolioUnitOfWork,
                 Protocol):
    """One transaction over every context's repositories: what the store adapters implement.

    A service is given the factory of the narrowest context it uses (``TradingUnitOfWorkFactory``...);
    only what spans contexts (the engine cycle with its alert outbox, drift, replay) takes this one.
    """


UnitOfWorkFactory = Callable[[], UnitOfWork]
TradingUnitOfWorkFactory = Callable[[], TradingUnitOfWork]
OpsUnitOfWorkFactory = Callable[[], OpsUnitOfWork]
ResearchUnitOfWorkFactory = Callable[[], ResearchUnitOfWork]
TaxUnitOfWorkFactory = Callable[[], TaxUnitOfWork]
PortfolioUnitOfWorkFactory = Callable[[], PortfolioUnitOfWork]
