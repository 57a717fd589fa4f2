"""SqlUnitOfWork: one session/transaction over every SQL repository; rolls back unless committed."""

from __future__ import annotations

import logging
from contextvars import Token
from types import TracebackType
from typing import Any, Self

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from trader.adapters.store import nesting
from trader.adapters.store.db import create_engine, session_factory
from trader.adapters.store.documents import (
    DocumentBreakers,
    DocumentEngineState,
    DocumentPaperAccount,
    DocumentReplayCursor,
    DocumentSettings,
    DocumentVenueAccount,
)
from trader.adapters.store.sql.documents import SqlDocuments
from trader.adapters.store.sql.ops import (
    SqlAlertOutboxRepository,
    SqlApiTokenRepository,
    SqlAuditRepository,
    SqlSecretRepository,
    SqlSignalReceiptRepository,
)
from trader.adapters.store.sql.portfolio import SqlPortfolioRepository
from trader.adapters.store.sql.research import (
    SqlBacktestRunRepository,
    SqlCandleRepository,
    SqlNewsRepository,
)
from trader.adapters.store.sql.tax import SqlAudRateRepository, SqlOpeningHoldingRepository
from trader.adapters.store.sql.trading import (
    SqlEquityRepository,
    SqlFillRepository,
    SqlOrderRepository,
    SqlPositionRepository,
    SqlRiskStateRepository,
)
from trader.config.sections import DatabaseConfig
from trader.core.errors import StoreError
from trader.ports.store import UnitOfWorkFactory

logger = logging.getLogger(__name__)


class SqlUnitOfWork:
    """``async with uow:`` opens a session; ``await uow.commit()`` makes changes durable."""

    candles: SqlCandleRepository
    orders: SqlOrderRepository
    fills: SqlFillRepository
    positions: SqlPositionRepository
    equity: SqlEquityRepository
    risk: SqlRiskStateRepository
    secrets: SqlSecretRepository
    audit: SqlAuditRepository
    alerts: SqlAlertOutboxRepository
    backtests: SqlBacktestRunRepository
    aud_rates: SqlAudRateRepository
    engine: DocumentEngineState
    paper_account: DocumentPaperAccount
    settings: DocumentSettings
    venue_account: DocumentVenueAccount
    breakers: DocumentBreakers
    replay: DocumentReplayCursor
    opening_holdings: SqlOpeningHoldingRepository
    api_tokens: SqlApiTokenRepository
    signals: SqlSignalReceiptRepository
    news: SqlNewsRepository
    portfolio: SqlPortfolioRepository

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None
        self._token: Token[Any] | None = None

    @property
    def store_key(self) -> object:
        """Identify the database for the nesting check."""
        return self._sessions

    def in_transaction(self) -> bool:
        """Return True while the session has a transaction (any statement since the last commit)."""
        return self._session is not None and self._session.in_transaction()

    async def __aenter__(self) -> Self:
        """Open the session and build the repositories on it."""
        if self._session is not None:
            raise StoreError("unit of work is already open; create a new one per transaction")
        self._token = nesting.enter(self)
        session = self._session = self._sessions()
        self.candles = SqlCandleRepository(session)
        self.orders = SqlOrderRepository(session)
        self.fills = SqlFillRepository(session)
        self.positions = SqlPositionRepository(session)
        self.equity = SqlEquityRepository(session)
        self.risk = SqlRiskStateRepository(session)
        self.secrets = SqlSecretRepository(session)
        self.audit = SqlAuditRepository(session)
        self.alerts = SqlAlertOutboxRepository(session)
        self.backtests = SqlBacktestRunRepository(session)
        self.aud_rates = SqlAudRateRepository(session)
        docs = SqlDocuments(session)
        self.engine = DocumentEngineState(docs)
        self.paper_account = DocumentPaperAccount(docs)
        self.settings = DocumentSettings(docs)
        self.venue_account = DocumentVenueAccount(docs)
        self.breakers = DocumentBreakers(docs)
        self.replay = DocumentReplayCursor(docs)
        self.opening_holdings = SqlOpeningHoldingRepository(session)
        self.api_tokens = SqlApiTokenRepository(session)
        self.signals = SqlSignalReceiptRepository(session)
        self.news = SqlNewsRepository(session)
        self.portfolio = SqlPortfolioRepository(session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Roll back anything not committed and close the session."""
        session, self._session = self._session, None
        if self._token is not None:
            nesting.leave(self._token)
            self._token = None
        if session is None:
            return
        try:
            await session.rollback()
        finally:
            await session.close()

    async def commit(self) -> None:
        """Commit; a database failure becomes StoreError after rolling back."""
        session = self._open()
        try:
            await session.commit()
        except SQLAlchemyError as exc:
            await session.rollback()
            raise StoreError(f"commit failed and was rolled back: {exc}") from exc

    async def rollback(self) -> None:
        """Discard every change since the last commit."""
        await self._open().rollback()

    def _open(self) -> AsyncSession:
        if self._session is None:
            raise StoreError("unit of work is not open; use `async with uow:`")
        return self._session


class Database:
    """An engine plus its session factory; hands out units of work."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = session_factory(engine)

    @classmethod
    def from_config(cls, config: DatabaseConfig) -> Database:
        """Return a database for ``config.url`` (the schema is created by migrations, not here)."""
        return cls(create_engine(config))

    @classmethod
    def from_url(cls, url: str) -> Database:
        """Return a database for ``url`` with default options."""
        return cls.from_config(DatabaseConfig(url=url))

    def uow(self) -> SqlUnitOfWork:
        """Return a new unit of work."""
        return SqlUnitOfWork(self._sessions)

    @property
    def uow_factory(self) -> UnitOfWorkFactory:
        """Return the factory services take (type-checked against the port)."""
        return self.uow

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
