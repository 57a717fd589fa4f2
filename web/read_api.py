"""Read-only API (viewer role): live state, history, KPIs, curves, candles, backtests, jobs; audit (admin).

Every route calls one service method and returns its DTO; money is a decimal string in JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from trader.core.domain.enums import Direction
from trader.services.dto import (
    BacktestRunView,
    BalanceView,
    GroupBy,
    GroupPerformance,
    HealthView,
    JobView,
    LockView,
    Outcome,
    PeriodKind,
    PeriodTable,
    PositionView,
    StatusView,
    TradeQuery,
    TradeView,
)
from trader.services.pair_dto import PairGroupView
from trader.services.web_dto import (
    AuditView,
    CandleTable,
    EquityCurveView,
    KpiView,
)
from web.auth import Admin, Viewer
from web.deps import Core, Web

router = APIRouter(tags=["read"])
Days = Annotated[int | None, Query(ge=1, le=36500, description="the last N days; all time when absent")]

@dataclass(frozen=True, slots=True)
class TradesPage:
    """One page of closed trades, newest first; ``page`` counts from 1."""

    trades: tuple[TradeView, ...]
    total: int
    page: int
    page_size: int
    pages: int
    quote: str

def _aware(name: str, moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise HTTPException(422, f"query.{name}: give a timezone, e.g. 2026-01-31T00:00:00Z")
    return moment.astimezone(UTC)

@router.get("/status", summary="Trading state and open positions")
async def status(_: Viewer, core: Core) -> StatusView:
    return await core.queries.status()

@router.get("/positions", summary="Open positions, oldest first")
async def positions(_: Viewer, core: Core) -> tuple[PositionView, ...]:
    return await core.queries.positions()

@router.get("/pair-groups", summary="Open pair groups (the pairs strategy), leg by leg, with their total PnL")
async def pair_groups(_: Viewer, core: Core) -> tuple[PairGroupView, ...]:
    return await core.queries.pair_groups()

@router.get("/balance", summary="Equity, free quote and per-asset balances")
async def balance(_: Viewer, core: Core) -> BalanceView:
    return await core.queries.balance()

@router.get("/health", summary="Exchange, store and scheduler health as the service sees it")
async def health(_: Viewer, core: Core) -> HealthView:
    return await core.queries.health()

@router.get("/locks", summary="Pairs locked against new entries")
async def locks(_: Viewer, core: Core) -> tuple[LockView, ...]:
    return await core.queries.locks()

@router.get("/trades", summary="Closed trades with filters and paging")
async def trades(  # noqa: PLR0913 - one parameter per filter
    _: Viewer, core: Core, *,
    pair: Annotated[str | None, Query(max_length=32, description="e.g. BTC/USDT")] = None,
    strategy: Annotated[str | None, Query(max_length=64)] = None,
    side: Annotated[Direction | None, Query(description="long or short")] = None,
    outcome: Annotated[Outcome | None, Query(description="won or lost")] = None,
    since: Annotated[datetime | None, Query(description="closed at or after (ISO 8601 with zone)")] = None,
    until: Annotated[datetime | None, Query(description="closed before (ISO 8601 with zone)")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> TradesPage:
    query = TradeQuery(pair=pair.upper() if pair else None, outcome=outcome, page=page - 1,
                       page_size=page_size, strategy=strategy, direction=side,
                       since=_aware("since", since), until=_aware("until", until))
    result = await core.reports.trades(query)
    return TradesPage(result.trades, result.total, page, page_size, result.pages, result.quote)

@router.get("/performance/pairs", summary="Closed-trade results per pair, best first")
async def performance_pairs(_: Viewer, core: Core) -> tuple[GroupPerformance, ...]:
    return await core.reports.performance(GroupBy.PAIR)

@router.get("/performance/strategies", summary="Closed-trade results per strategy, best first")
async def performance_strategies(_: Viewer, core: Core) -> tuple[GroupPerformance, ...]:
    return await core.reports.performance(GroupBy.STRATEGY)

@router.get("/performance/periods/{kind}", summary="Results per day, week or month, newest first")
async def performance_periods(_: Viewer, core: Core, kind: PeriodKind,
                              count: Annotated[int, Query(ge=1, le=366)] = 30) -> PeriodTable:
    return await core.reports.periods(kind, count)

@router.get("/kpis", summary="Win rate, profit factor, expectancy, Sharpe, Sortino, volatility, drawdown")
async def kpis(_: Viewer, web: Web, days: Days = None) -> KpiView:
    return await web.insights.kpis(days)

@router.get("/equity", summary="Equity curve with drawdown")
async def equity(_: Viewer, web: Web, days: Days = None,
                 points: Annotated[int, Query(ge=10, le=10_000)] = 2000) -> EquityCurveView:
    return await web.insights.equity_curve(days, points)

@router.get("/candles", summary="Stored candles with indicator columns")
async def candles(
    _: Viewer, web: Web,
    pair: Annotated[str, Query(max_length=32, description="e.g. BTC/USDT")],
    timeframe: Annotated[str, Query(max_length=4)] = "1h",
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
    indicators: Annotated[str, Query(max_length=200, description="comma-separated: sma_20,rsi_14,...")] = "",
) -> CandleTable:
    names = [n.strip().lower() for n in indicators.split(",") if n.strip()]
    return await web.insights.candles(pair, timeframe, limit, names)

@router.get("/backtests", summary="Stored backtest runs, newest first")
async def backtests(_: Viewer, core: Core,
                    limit: Annotated[int, Query(ge=1, le=200)] = 20) -> tuple[BacktestRunView, ...]:
    return await core.backtests.recent(limit)

@router.get("/jobs", summary="Scheduled jobs and their next run")
async def jobs(_: Viewer, web: Web) -> tuple[JobView, ...]:
    return await web.insights.jobs()

@router.get("/audit", summary="The audit log, newest first (admin)")
async def audit(_: Admin, web: Web, limit: Annotated[int, Query(ge=1, le=1000)] = 50,
                actor: Annotated[str | None, Query(max_length=128)] = None,
                action: Annotated[str | None, Query(max_length=64)] = None) -> tuple[AuditView, ...]:
    return await web.insights.audit_log(limit, actor, action)
