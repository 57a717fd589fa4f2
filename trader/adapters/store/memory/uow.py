"""InMemoryUnitOfWork: the store without a database, for backtests and unit tests.

It passes the same contract suite as SqlUnitOfWork: changes are invisible to other units of work until
commit, and leaving without commit discards them.
"""

from __future__ import annotations

import itertools
from contextvars import Token
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from trader.adapters.store import nesting
from trader.adapters.store.documents import (
    DocumentBreakers,
    DocumentEngineState,
    DocumentPaperAccount,
    DocumentReplayCursor,
    DocumentSettings,
    DocumentVenueAccount,
)
from trader.adapters.store.memory.documents import MemoryDocuments
from trader.adapters.store.memory.ops import (
    MemoryAlertOutboxRepository,
    MemoryApiTokenRepository,
    MemoryAuditRepository,
    MemorySecretRepository,
    MemorySignalReceiptRepository,
)
from trader.adapters.store.memory.portfolio import MemoryPortfolioRepository
from trader.adapters.store.memory.research import (
    MemoryBacktestRunRepository,
    MemoryCandleRepository,
    MemoryNewsRepository,
)
from trader.adapters.store.memory.tables import OverlayTable
from trader.adapters.store.memory.tax import MemoryAudRateRepository, MemoryOpeningHoldingRepository
from trader.adapters.store.memory.trading import (
    MemoryEquityRepository,
    MemoryFillRepository,
    MemoryOrderRepository,
    MemoryPositionRepository,
    MemoryRiskStateRepository,
)
from trader.core.errors import StoreError
from trader.ports.store import UnitOfWorkFactory

_TABLES = ("candles", "orders", "fills", "positions", "equity", "risk", "secrets", "audit", "alerts",
           "backtests", "aud_rates", "paper", "opening_holdings", "api_tokens", "signals", "news",
           "holdings", "price_quotes", "basket_snapshots")


@dataclass
class MemoryStore:
    """The committed data shared by every InMemoryUnitOfWork made from it."""

    tables: dict[str, dict[Any, Any]] = field(default_factory=lambda: {name: {} for name in _TABLES})
    ids: dict[str, itertools.count[int]] = field(
        default_factory=lambda: {name: itertools.count(1) for name in _TABLES}
    )

    def uow(self) -> InMemoryUnitOfWork:
        """Return a new unit of work over this store."""
        return InMemoryUnitOfWork(self)

    @property
    def uow_factory(self) -> UnitOfWorkFactory:
        """Return the factory services take (type-checked against the port)."""
        return self.uow


class InMemoryUnitOfWork:
    """Same repositories and transaction rules as SqlUnitOfWork, held in dicts."""

    candles: MemoryCandleRepository
    orders: MemoryOrderRepository
    fills: MemoryFillRepository
    positions: MemoryPositionRepository
    equity: MemoryEquityRepository
    risk: MemoryRiskStateRepository
    secrets: MemorySecretRepository
    audit: MemoryAuditRepository
    alerts: MemoryAlertOutboxRepository
    backtests: MemoryBacktestRunRepository
    aud_rates: MemoryAudRateRepository
    engine: DocumentEngineState
    paper_account: DocumentPaperAccount
    settings: DocumentSettings
    venue_account: DocumentVenueAccount
    breakers: DocumentBreakers
    replay: DocumentReplayCursor
    opening_holdings: MemoryOpeningHoldingRepository
    api_tokens: MemoryApiTokenRepository
    signals: MemorySignalReceiptRepository
    news: MemoryNewsRepository
    portfolio: MemoryPortfolioRepository

    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store if store is not None else MemoryStore()
        self._overlays: dict[str, OverlayTable[Any, Any]] | None = None
        self._token: Token[Any] | None = None

    @property
    def store_key(self) -> object:
        """Identify the store for the nesting check."""
        return self.store

    def in_transaction(self) -> bool:
        """Return True when something was read or written since the last commit/rollback."""
        return self._overlays is not None and any(t.touched for t in self._overlays.values())

    async def __aenter__(self) -> Self:
        """Begin: build the repositories over fresh overlays."""
        if self._overlays is not None:
            raise StoreError("unit of work is already open; create a new one per transaction")
        self._token = nesting.enter(self)
        t = self._overlays = {name: OverlayTable(self.store.tables[name]) for name in _TABLES}
        ids = self.store.ids
        self.candles = MemoryCandleRepository(t["candles"])
        self.orders = MemoryOrderRepository(t["orders"], ids["orders"])
        self.fills = MemoryFillRepository(t["fills"], ids["fills"])
        self.positions = MemoryPositionRepository(t["positions"])
        self.equity = MemoryEquityRepository(t["equity"], ids["equity"])
        self.risk = MemoryRiskStateRepository(t["risk"])
        self.secrets = MemorySecretRepository(t["secrets"])
        self.audit = MemoryAuditRepository(t["audit"], ids["audit"])
        self.alerts = MemoryAlertOutboxRepository(t["alerts"], ids["alerts"])
        self.backtests = MemoryBacktestRunRepository(t["backtests"], ids["backtests"])
        self.aud_rates = MemoryAudRateRepository(t["aud_rates"])
        docs = MemoryDocuments(t["paper"])
        self.engine = DocumentEngineState(docs)
        self.paper_account = DocumentPaperAccount(docs)
        self.settings = DocumentSettings(docs)
        self.venue_account = DocumentVenueAccount(docs)
        self.breakers = DocumentBreakers(docs)
        self.replay = DocumentReplayCursor(docs)
        self.opening_holdings = MemoryOpeningHoldingRepository(t["opening_holdings"])
        self.api_tokens = MemoryApiTokenRepository(t["api_tokens"], ids["api_tokens"])
        self.signals = MemorySignalReceiptRepository(t["signals"])
        self.news = MemoryNewsRepository(t["news"])
        self.portfolio = MemoryPortfolioRepository(t["holdings"], t["price_quotes"], t["basket_snapshots"])
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Discard anything not committed."""
        if self._overlays is not None:
            for table in self._overlays.values():
                table.rollback()
        self._overlays = None
        if self._token is not None:
            nesting.leave(self._token)
            self._token = None

    async def commit(self) -> None:
        """Publish every change to the shared store."""
        for table in self._open().values():
            table.commit()

    async def rollback(self) -> None:
        """Discard every change since the last commit."""
        for table in self._open().values():
            table.rollback()

    def _open(self) -> dict[str, OverlayTable[Any, Any]]:
        if self._overlays is None:
            raise StoreError("unit of work is not open; use `async with uow:`")
        return self._overlays
