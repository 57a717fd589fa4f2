"""Store port, split by bounded context: trading, ops, research, tax and portfolio, each a module with its
own unit-of-work protocol and small typed repositories (SQL and in-memory implement them).

Services open ``async with uow_factory() as uow:``, use the repositories, then ``await uow.commit()``;
leaving the block without commit rolls everything back. Only domain dataclasses cross this port.
Do not open a unit of work while another one of the same store has an open transaction in the same
task (commit it first, or pass it down): that raises StoreError, because on SQLite it would deadlock.
All datetimes are aware UTC; candle times are epoch milliseconds (``CandleFrame.timestamp``).
"""

from __future__ import annotations

from trader.ports.store.ops import (
    AlertOutboxRepository,
    AuditEntry,
    AuditRepository,
    BreakerMemory,
    BreakerRepository,
    OpsUnitOfWork,
    OutboxAlert,
    SecretRecord,
    SecretRepository,
    SettingsRepository,
    VenueAccount,
    VenueAccountRepository,
)
from trader.ports.store.portfolio import PortfolioUnitOfWork
from trader.ports.store.research import (
    BacktestRun,
    BacktestRunRepository,
    CandleRepository,
    CandleSeries,
    ReplayCursor,
    ReplayCursorRepository,
    ResearchUnitOfWork,
)
from trader.ports.store.tax import (
    AudRate,
    AudRateRepository,
    OpeningHoldingRepository,
    OpeningParcel,
    TaxUnitOfWork,
)
from trader.ports.store.trading import (
    EngineStateRepository,
    EquityRepository,
    EquitySnapshot,
    FillRepository,
    OrderRecord,
    OrderRepository,
    PaperAccountRepository,
    PositionRepository,
    RiskStateRepository,
    TradingUnitOfWork,
)
from trader.ports.store.transaction import JsonValue, Transaction
from trader.ports.store.unit import (
    OpsUnitOfWorkFactory,
    PortfolioUnitOfWorkFactory,
    ResearchUnitOfWorkFactory,
    TaxUnitOfWorkFactory,
    TradingUnitOfWorkFactory,
    UnitOfWork,
    UnitOfWorkFactory,
)

__all__ = [
    "AlertOutboxRepository",
    "AudRate",
    "AudRateRepository",
    "AuditEntry",
    "AuditRepository",
    "BacktestRun",
    "BacktestRunRepository",
    "BreakerMemory",
    "BreakerRepository",
    "CandleRepository",
    "CandleSeries",
    "EngineStateRepository",
    "EquityRepository",
    "EquitySnapshot",
    "FillRepository",
    "JsonValue",
    "OpeningHoldingRepository",
    "OpeningParcel",
    "OpsUnitOfWork",
    "OpsUnitOfWorkFactory",
    "OrderRecord",
    "OrderRepository",
    "OutboxAlert",
    "PaperAccountRepository",
    "PortfolioUnitOfWork",
    "PortfolioUnitOfWorkFactory",
    "PositionRepository",
    "ReplayCursor",
    "ReplayCursorRepository",
    "ResearchUnitOfWork",
    "ResearchUnitOfWorkFactory",
    "RiskStateRepository",
    "SecretRecord",
    "SecretRepository",
    "SettingsRepository",
    "TaxUnitOfWork",
    "TaxUnitOfWorkFactory",
    "TradingUnitOfWork",
    "TradingUnitOfWorkFactory",
    "Transaction",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "VenueAccount",
    "VenueAccountRepository",
]
