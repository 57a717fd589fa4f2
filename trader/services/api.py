"""The services contract front ends call: small async Protocols bundled in one frozen ``Services``.

Handlers receive ``Services`` and nothing else from the core. Every method returns a DTO from
``trader.services.dto``. Conventions every implementation keeps:

- Bad or unservable input raises ``trader.core.errors.InputError``/``DataError`` with a ``user_message``
  and changes nothing (unknown pair, unknown strategy, unknown position id, value out of bounds).
- A refusal by the rules (risk guard, halted, nothing to close) is a value:
  ``ControlResult(ok=False, message=..., refused_reason=...)``; it changes nothing either.
- A control action persists its change and an audit entry before returning ``ok=True``.
- ``preview_*`` methods validate and price an action without changing anything; the matching action
  method takes the preview back after the user confirmed (it re-checks, since time has passed).
- CPU-heavy work (charts, backtests) runs off the event loop inside the service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from trader.services.drift_dto import DriftView
from trader.services.dto import (
    Actor,
    BacktestReport,
    BacktestRequest,
    BacktestRunView,
    BalanceView,
    BuyPreview,
    ChartImage,
    ChartRequest,
    ClosePreview,
    ConfigView,
    ControlResult,
    DocumentFile,
    GroupBy,
    GroupPerformance,
    HealthView,
    JobView,
    LockView,
    LogView,
    NewsView,
    PeriodKind,
    PeriodTable,
    PositionView,
    ProfitView,
    SettingChange,
    SettingsView,
    StatusView,
    StrategyView,
    TaxMethod,
    TradePage,
    TradeQuery,
    VersionView,
)
from trader.services.pair_dto import PairGroupView
from trader.services.portfolio_dto import (
    BasketBuyResult,
    BasketInfo,
    BasketValuation,
    HoldingView,
    RebalancePlan,
    TrackResult,
)


class QueryService(Protocol):
    """Read models of the live state: never changes anything."""

    async def status(self) -> StatusView:
        """Return the trading state and every open position with its current price and PnL."""
        ...

    async def positions(self) -> tuple[PositionView, ...]:
        """Return the open positions, oldest first."""
        ...

    async def pair_groups(self) -> tuple[PairGroupView, ...]:
        """Return the pairs strategy's open groups with per-leg detail, oldest first."""
        ...

    async def balance(self) -> BalanceView:
        """Return equity, free quote and per-asset balances."""
        ...

    async def health(self) -> HealthView:
        """Return whether the exchange, store and scheduler answer, and the last tick time."""
        ...

    async def locks(self) -> tuple[LockView, ...]:
        """Return the pairs currently locked against new entries."""
        ...

    async def jobs(self) -> tuple[JobView, ...]:
        """Return each scheduled job's last run (start, duration, outcome) and next run."""
        ...

    async def strategies(self) -> tuple[StrategyView, ...]:
        """Return every registered strategy, enabled ones first."""
        ...

    async def settings(self) -> SettingsView:
        """Return the risk and strategy parameters /settings may change."""
        ...


class ReportService(Protocol):
    """Read models of the history (closed trades, equity) and exports."""

    async def profit(self, days: int | None) -> ProfitView:
        """Return the profit summary over the last ``days`` days (all time when None)."""
        ...

    async def performance(self, by: GroupBy = GroupBy.PAIR) -> tuple[GroupPerformance, ...]:
        """Return closed-trade results per pair or per strategy, best first."""
        ...

    async def periods(self, kind: PeriodKind, count: int) -> PeriodTable:
        """Return the last ``count`` calendar buckets of ``kind``, newest first (empty ones included)."""
        ...

    async def trades(self, query: TradeQuery) -> TradePage:
        """Return one page of closed trades matching ``query``, newest first."""
        ...

    async def tax_report(self, year: int, method: TaxMethod = TaxMethod.FIFO) -> DocumentFile:
        """Return the capital-gains CSV for the financial year ending in ``year``; DataError if none."""
        ...


class ControlService(Protocol):
    """Everything that changes the trading state; each action is validated, persisted and audited."""

    async def pause(self, actor: Actor) -> ControlResult:
        """Stop opening positions; open ones stay protected."""
        ...

    async def resume(self, actor: Actor) -> ControlResult:
        """Allow entries again after a pause or halt."""
        ...

    async def halt(self, actor: Actor, *, flatten: bool) -> ControlResult:
        """Halt trading (persists across restarts); with ``flatten`` also close every position."""
        ...

    async def preview_close(self, target: str | None) -> ClosePreview:
        """Return what closing position ``target`` (None: all) would close; InputError if unknown."""
        ...

    async def close(self, target: str | None, actor: Actor) -> ControlResult:
        """Close position ``target`` (None: all) at market."""
        ...

    async def preview_buy(self, pair: str, amount: Decimal | None) -> BuyPreview:
        """Size (when ``amount`` is None), round and price a manual entry; DataError on unknown pair."""
        ...

    async def buy(self, preview: BuyPreview, actor: Actor) -> ControlResult:
        """Open the previewed position through the risk checks; a refusal comes back as a value."""
        ...

    async def preview_setting(self, key: str, value: str) -> SettingChange:
        """Validate ``value`` for parameter ``key``; InputError names the problem and the bounds."""
        ...

    async def apply_setting(self, change: SettingChange, actor: Actor) -> ControlResult:
        """Apply a previewed parameter change and persist it."""
        ...

    async def unlock(self, pair: str, actor: Actor) -> ControlResult:
        """Remove the entry lock on ``pair``; refused when it is not locked."""
        ...

    async def reload(self, actor: Actor) -> ControlResult:
        """Reload strategies and parameters from the configuration."""
        ...


class ChartService(Protocol):
    """Rendered charts as PNG bytes."""

    async def candles(self, request: ChartRequest) -> ChartImage:
        """Render candles with indicators, entries/exits and stop/take-profit lines."""
        ...

    async def equity(self) -> ChartImage:
        """Render the account equity curve with its drawdown."""
        ...


class BacktestService(Protocol):
    """Backtests on stored candles, run off the event loop."""

    async def run(self, request: BacktestRequest) -> BacktestReport:
        """Run one backtest; DataError when the strategy, pair or candles are unknown."""
        ...

    async def recent(self, limit: int = 5) -> tuple[BacktestRunView, ...]:
        """Return the newest stored runs first, to compare them."""
        ...


class DriftService(Protocol):
    """The account's trades against a backtest over the same period (``trader.services.drift``)."""

    async def report(self, since: datetime | None = None, *, alert: bool = False) -> DriftView:
        """Compare trade by trade since ``since`` (None: since the account started); DataError when the
        account has no history yet. With ``alert``, a logic difference also queues a warning alert."""
        ...


class NewsQuery(Protocol):
    """Crypto news headlines from the configured feeds (``trader.services.news``)."""

    async def latest(self, asset: str | None = None, limit: int = 10) -> tuple[NewsView, ...]:
        """Return the newest headlines, optionally only those mentioning ``asset``."""
        ...


class PortfolioQuery(Protocol):
    """Baskets, their holdings and valuation (``trader.services.portfolio.PortfolioService``)."""

    async def baskets(self) -> tuple[BasketInfo, ...]:
        """Return every basket's definition and how many holdings it has."""
        ...

    async def value(self, name: str | None = None) -> BasketValuation:
        """Value a basket (None: the first with holdings); stale prices are flagged, never fresh."""
        ...

    async def chart(self, valuation: BasketValuation) -> bytes:
        """Return the PNG of a valuation: value by category and the top movers."""
        ...

    async def holdings(self, name: str | None = None) -> tuple[HoldingView, ...]:
        """Return the stored purchases of one basket (every basket when None)."""
        ...

    async def rebalance(self, name: str | None = None) -> RebalancePlan:
        """Return what to buy and sell to return a basket to its target weights (nothing trades)."""
        ...

    async def track(self, name: str, day: date, total: Decimal | None = None) -> TrackResult:
        """Record a virtual purchase of a basket at the prices of ``day``."""
        ...

    async def buy_basket(self, name: str, quote: str, amount: Decimal, actor: Actor) -> BasketBuyResult:
        """Buy ``amount`` of ``quote`` of each listed asset through the engine, like /buy."""
        ...

    async def held_assets(self) -> frozenset[str]:
        """Return the tickers any basket holds."""
        ...


class SystemService(Protocol):
    """Facts about the running program."""

    async def version(self) -> VersionView:
        """Return the program and library versions."""
        ...

    async def config(self) -> ConfigView:
        """Return the effective configuration with every secret masked."""
        ...

    async def logs(self, lines: int) -> LogView:
        """Return the last ``lines`` log lines, secrets redacted."""
        ...


class AuditService(Protocol):
    """Append-only record of who tried what (``trader.services.audit.AuditService`` implements it)."""

    async def record(self, actor: str, action: str, detail: str = "", result: str = "ok") -> int:
        """Append one entry in its own transaction and return its id."""
        ...


@dataclass(frozen=True, slots=True)
class Services:
    """One bundle of every service: the only thing front ends receive."""

    queries: QueryService
    reports: ReportService
    control: ControlService
    charts: ChartService
    backtests: BacktestService
    system: SystemService
    audit: AuditService
    drift: DriftService
    news: NewsQuery
    portfolio: PortfolioQuery
