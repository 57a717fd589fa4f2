"""ReportService: closed-trade history, profit, performance tables and the tax export, from the store.

A closed trade is a CLOSED position that held coins; tables and KPIs come from ``trader.core.analytics`` so
/profit agrees with the backtest report. Unrealised PnL marks open positions at the venue's last price.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from trader.core.analytics import curve, tables
from trader.core.analytics.kpis import trade_stats
from trader.core.analytics.records import TradeRecord, equity_curve
from trader.core.analytics.tax import (
    AudRates,
)
from trader.core.analytics.tax.ato import FinancialYear
from trader.core.analytics.tax.parcels import ato_method_note
from trader.core.domain.enums import ExitReason
from trader.core.domain.money import ZERO
from trader.core.errors import DataError, InputError
from trader.core.formatting import money
from trader.core.positions.pnl import unrealised_pnl
from trader.ports.clock import Clock
from trader.ports.exchange import Exchange
from trader.ports.store import EquitySnapshot, UnitOfWorkFactory
from trader.services.aud_rates import AudRateService, RateFetch
from trader.services.closed_trades import ClosedTrades
from trader.services.dto import (
    DocumentFile,
    GroupBy,
    GroupPerformance,
    PeriodKind,
    PeriodRow,
    PeriodTable,
    ProfitView,
    TaxMethod,
    TradePage,
    TradeQuery,
    TradeView,
)
from trader.services.equity_history import EquityHistory
from trader.services.tax_export import build_export, stored_rates, stored_records

logger = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PERIOD = {PeriodKind.DAY: tables.Period.DAY, PeriodKind.WEEK: tables.Period.WEEK,
           PeriodKind.MONTH: tables.Period.MONTH}


def trade_view(record: TradeRecord) -> TradeView:
    """Return the /trades line (the one trade DTO) of a closed-trade record."""
    reason = ExitReason(record.exit_reason) if record.exit_reason else ExitReason.MANUAL
    return TradeView(record.id, record.symbol, record.direction, record.amount, record.entry_price,
                     record.exit_price, record.pnl, record.return_fraction, record.entry_time,
                     record.exit_time, reason, record.strategy)


class StoreReportService:
    """Reports over the store's finished positions and fills (implements ``api.ReportService``)."""

    def __init__(self, uow_factory: UnitOfWorkFactory, exchange: Exchange, clock: Clock, *, quote: str,
                 start_balance: Decimal, tax_zone: str = "Australia/Sydney",
                 rates: AudRateService | None = None) -> None:
        self._uow = uow_factory
        self._closed = ClosedTrades(uow_factory)
        self._equity = EquityHistory(uow_factory)
        self._rates = rates  # fetches the AUD rates a tax report needs and the store lacks
        self._exchange = exchange
        self._clock = clock
        self._quote = quote
        self._start_balance = start_balance
        self._zone = ZoneInfo(tax_zone)

    async def _records(self) -> list[TradeRecord]:
        return await self.trade_records()

    async def trade_records(self) -> list[TradeRecord]:
        """Return this account's closed trades as records (the reports across venue accounts merge them)."""
        return list(await self._closed.records())

    async def unrealised(self) -> Decimal:
        """Return this account's unrealised PnL at the last prices."""
        return await StoreReportService._unrealised(self)

    async def equity_now(self) -> Decimal:
        """Return this account's latest equity (its last snapshot, else start balance plus realised)."""
        return await StoreReportService._equity_now(self, await self.trade_records())

    async def profit(self, days: int | None) -> ProfitView:
        """Return realised/unrealised PnL, win rate, profit factor and drawdown over ``days``."""
        if days is not None and days < 1:
            raise InputError(f"days must be at least 1, got {days}", user_message="Days must be 1 or more.")
        now = self._clock.now()
        since = now - timedelta(days=days) if days is not None else None
        records = [r for r in await self._records() if since is None or r.exit_time >= since]
        stats = trade_stats(records)
        rate = None if not records else Decimal(stats.wins) / Decimal(len(records))
        snapshots = await self._equity.since(since)
        returns = _daily_returns(snapshots)
        return ProfitView(
            quote=self._quote, days=days, realised=stats.total_pnl, unrealised=await self._unrealised(),
            closed_trades=len(records), wins=stats.wins, losses=stats.losses, fees=stats.total_fees,
            win_rate=rate, profit_factor=stats.profit_factor, max_drawdown=_drawdown(snapshots),
            first_trade_at=min((r.entry_time for r in records), default=None),
            sharpe=curve.sharpe_ratio(returns), sortino=curve.sortino_ratio(returns),
            volatility=curve.volatility(returns),
        )

    async def _unrealised(self) -> Decimal:
        async with self._uow() as uow:
            active = await uow.positions.unfinished()
        total = ZERO
        for position in active:
            if position.open_amount <= 0 or position.entry_price is None:
                continue
            try:
                mark = await self._exchange.last_price(position.symbol)
            except Exception as exc:  # a missing price leaves that position out, it does not fail /profit
                logger.warning("no price for %s: %s", position.symbol, exc)
                continue
            total += unrealised_pnl(position, mark)
        return total

    async def performance(self, by: GroupBy = GroupBy.PAIR) -> tuple[GroupPerformance, ...]:
        """Return one row per pair or per strategy, best PnL first."""
        records = await self._records()
        rows = tables.by_pair(records) if by is GroupBy.PAIR else tables.by_strategy(records)
        return tuple(
            GroupPerformance(r.key, r.trades, r.pnl, r.average_return or ZERO,
                            Decimal(r.wins) / Decimal(r.trades) if r.trades else ZERO)
            for r in rows
        )

    async def periods(self, kind: PeriodKind, count: int) -> PeriodTable:
        """Return the last ``count`` buckets newest first, with PnL as a fraction of equity at the start."""
        if count < 1:
            raise InputError(f"count must be at least 1, got {count}",
                             user_message="Count must be 1 or more.")
        period = _PERIOD[kind]
        now = self._clock.now()
        records = await self._records()
        starts = [tables.period_start(now, period)]
        while len(starts) < count:
            starts.insert(0, tables.period_start(starts[0] - timedelta(days=1), period))
        rows = tables.by_period(records, period, start=starts[0], end=now)
        equity_now = await self._equity_now(records)
        out: list[PeriodRow] = []
        for start, row in zip(starts, rows, strict=True):
            later = sum((r.pnl for r in records if r.exit_time >= start), ZERO)
            base = equity_now - later
            pct = row.pnl / base if base > 0 else ZERO
            out.append(PeriodRow(start.date(), row.trades, row.pnl, pct))
        return PeriodTable(kind, self._quote, tuple(reversed(out)))

    async def _equity_now(self, records: Sequence[TradeRecord]) -> Decimal:
        async with self._uow() as uow:
            latest = await uow.equity.latest()
        if latest is not None:
            return latest.equity
        return self._start_balance + sum((r.pnl for r in records), ZERO)

    async def trades(self, query: TradeQuery) -> TradePage:
        """Return one page of closed trades (newest first) matching the query's filters."""
        selection = tables.TradeFilter(query.pair, query.strategy, query.direction, query.outcome,
                                       query.since, query.until)
        page = tables.trade_history(await self._records(), selection, page=query.page,
                                    page_size=query.page_size)
        return TradePage(query, tuple(trade_view(r) for r in page.trades), page.total, self._quote)

    async def tax_report(self, year: int, method: TaxMethod = TaxMethod.FIFO) -> DocumentFile:
        """Return the ATO capital-gains CSV (parcels matched by ``method``) for the income year ending
        30 June ``year``.

        The store's opening holdings (parcels acquired before the bot's records) are acquisitions too.
        Every earlier year of the records is matched as well, so their net capital losses are carried
        into this one; the caption shows the amount brought forward, the amount used and what is left,
        and whether the ATO accepts the method for these records.
        """
        if not 2000 <= year <= 2100:
            raise InputError(f"year {year}", user_message="Give the income year by its end, e.g. /tax 2024.")
        fy = FinancialYear(year)
        fills, opening = await stored_records(self._uow, self._uow, fy, self._zone)
        fetches: list[RateFetch] = []

        async def fetch(needed: set[tuple[str, date]]) -> None:
            if (fetched := await self._fetch_rates(needed)) is not None:
                fetches.append(fetched)

        stored = await stored_rates(self._uow, fills, self._zone, fetch)
        if not any(fy.contains(f.timestamp.astimezone(self._zone).date()) for f in fills):
            raise DataError(f"no fills in {fy.label}",
                            user_message=f"No trades in the income year {fy.label}.")
        export = build_export(fills, opening, AudRates(stored), fy, method, self._zone)
        report, fetched = export.report, (fetches[0] if fetches else None)
        s = report.summary
        others = " · ".join(f"/tax {year} {m.value}" for m in TaxMethod if m is not method)
        caption = "\n".join((
            f"{fy.label}, {method.label}: {len(report.lines)} disposal line(s), net capital gain "
            f"{money(s.net_capital_gain, 'AUD')}",
            f"Losses from earlier years: {money(s.prior_year_losses, 'AUD')} brought forward, "
            f"{money(s.prior_year_losses_applied, 'AUD')} used, "
            f"{money(s.losses_carried_forward, 'AUD')} carried forward",
            ato_method_note(method, identified=export.opening_identified),
            *((f"AUD rates: {fetched.stored} fetched from {fetched.source} for this report",)
              if fetched is not None and fetched.stored else ()),
            f"Other methods: {others}",
        ))
        return DocumentFile(f"cgt_{fy.label}_{method.value}.csv", export.cgt_csv.encode(), caption)


    async def _fetch_rates(self, needed: set[tuple[str, date]]) -> RateFetch | None:
        """Fetch the needed AUD rates the store lacks (when a source is configured)."""
        if self._rates is None or not await self._rates.missing(needed):
            return None
        try:
            return await self._rates.fetch_missing(needed)
        except DataError as exc:
            raise DataError(f"AUD rates could not be fetched: {exc}", user_message=(
                f"Some AUD rates are missing and {self._rates.source} could not provide them "
                f"({exc.user_message}). Try again later, or import them: tradebot tax import-rates FILE.csv"
            )) from None

def _drawdown(snapshots: Sequence[EquitySnapshot]) -> Decimal | None:
    """Return the deepest fall of equity from its running peak as a fraction (exact, in Decimal)."""
    peak: Decimal | None = None
    worst = ZERO
    for snap in snapshots:
        peak = snap.equity if peak is None else max(peak, snap.equity)
        if peak > 0:
            worst = max(worst, (peak - snap.equity) / peak)
    return worst if snapshots else None


def _daily_returns(snapshots: Sequence[EquitySnapshot]) -> pd.Series:
    """Return the daily returns of the equity snapshots (UTC day closes); empty when there are none."""
    usable = [s for s in snapshots if s.equity > 0]  # an empty account has no returns to measure
    if len(usable) < 2:
        return pd.Series([], dtype=np.float64, name="return")
    series = equity_curve([s.ts for s in usable], [float(s.equity) for s in usable])
    return curve.daily_returns(series)
