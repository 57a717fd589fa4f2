"""QueryService and ReportService test doubles over MemoryState."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from tests.fakes.memory_services.state import NOW, MemoryState
from trader.core.domain.enums import Mode
from trader.core.errors import DataError
from trader.services.dto import (
    AssetBalance,
    BalanceView,
    DocumentFile,
    GroupBy,
    GroupPerformance,
    HealthView,
    JobView,
    LockView,
    ParamView,
    PeriodKind,
    PeriodRow,
    PeriodTable,
    PositionView,
    ProfitView,
    SettingsView,
    StatusView,
    StrategyView,
    TaxMethod,
    TradePage,
    TradeQuery,
)
from trader.services.pair_dto import PairGroupView


class MemoryQueries:
    """QueryService over MemoryState."""

    def __init__(self, s: MemoryState) -> None:
        self.s = s

    async def status(self) -> StatusView:
        return StatusView(self.s.state, Mode.PAPER, "USDT", await self.positions(), self.s.halted_reason)

    async def positions(self) -> tuple[PositionView, ...]:
        return tuple(self.s.marked(p) for p in self.s.positions.values())

    async def pair_groups(self) -> tuple[PairGroupView, ...]:
        return tuple(self.s.pair_groups)

    async def balance(self) -> BalanceView:
        held = [self.s.marked(p) for p in self.s.positions.values()]
        exposure = sum((p.amount * (p.current_price or 0) for p in held), Decimal(0))
        assets = [AssetBalance("USDT", self.s.cash, Decimal(0), self.s.cash)]
        assets += [
            AssetBalance(p.pair.split("/")[0], Decimal(0), p.amount, p.amount * (p.current_price or 0))
            for p in held
        ]
        return BalanceView("USDT", self.s.cash + exposure, self.s.cash, exposure, tuple(assets), Mode.PAPER)

    async def health(self) -> HealthView:
        return HealthView(self.s.state, Mode.PAPER, True, True, True, NOW, 7260.0, len(self.s.positions))

    async def locks(self) -> tuple[LockView, ...]:
        return tuple(self.s.locks.values())

    async def jobs(self) -> tuple[JobView, ...]:
        return (JobView("monitor", NOW + timedelta(seconds=10), NOW, 0.031),
                JobView("risk", NOW + timedelta(minutes=1), NOW, 5.012, error="NetworkError: timed out"),
                JobView("backup", NOW + timedelta(hours=15)))

    async def strategies(self) -> tuple[StrategyView, ...]:
        params = tuple(
            ParamView(k, str(v.value)) for k, v in self.s.settings.items() if k.startswith("breakout")
        )
        return (
            StrategyView("breakout", "Multi-confirmation breakout", True, ("BTC/USDT",), "1h", params),
            StrategyView("bollinger_reversion", "Bollinger mean reversion <bands>", False),
        )

    async def settings(self) -> SettingsView:
        return SettingsView(
            tuple(
                ParamView(k, str(v.value), bounds=f"{v.low} < x <= {v.high}")
                for k, v in self.s.settings.items()
            )
        )


class MemoryReports:
    """ReportService over MemoryState."""

    def __init__(self, s: MemoryState) -> None:
        self.s = s

    async def profit(self, days: int | None) -> ProfitView:
        cutoff = NOW - timedelta(days=days) if days else None
        trades = [t for t in self.s.trades if cutoff is None or t.closed_at >= cutoff]
        wins = [t for t in trades if t.pnl > 0]
        unrealised = sum((self.s.marked(p).pnl for p in self.s.positions.values()), Decimal(0))
        rate = Decimal(len(wins)) / len(trades) if trades else None
        return ProfitView(
            "USDT",
            days,
            sum((t.pnl for t in trades), Decimal(0)),
            unrealised,
            len(trades),
            len(wins),
            len(trades) - len(wins),
            Decimal("1.5"),
            rate,
        )

    async def performance(self, by: GroupBy = GroupBy.PAIR) -> tuple[GroupPerformance, ...]:
        rows = []
        key = (lambda t: t.pair) if by is GroupBy.PAIR else (lambda t: t.strategy)
        for name in sorted({key(t) for t in self.s.trades}):
            mine = [t for t in self.s.trades if key(t) == name]
            pnl = sum((t.pnl for t in mine), Decimal(0))
            won = Decimal(sum(1 for t in mine if t.pnl > 0)) / len(mine)
            rows.append(GroupPerformance(name, len(mine), pnl, pnl / len(mine) / 1000, won))
        return tuple(sorted(rows, key=lambda r: r.pnl, reverse=True))

    async def periods(self, kind: PeriodKind, count: int) -> PeriodTable:
        step = {PeriodKind.DAY: 1, PeriodKind.WEEK: 7, PeriodKind.MONTH: 30}[kind]
        rows = []
        for i in range(count):
            start = NOW.date() - timedelta(days=step * i)
            mine = [t for t in self.s.trades if start <= t.closed_at.date() < start + timedelta(days=step)]
            pnl = sum((t.pnl for t in mine), Decimal(0))
            rows.append(PeriodRow(start, len(mine), pnl, pnl / Decimal(10_000)))
        return PeriodTable(kind, "USDT", tuple(rows))

    async def trades(self, query: TradeQuery) -> TradePage:
        match = [
            t
            for t in self.s.trades
            if (query.pair is None or t.pair == query.pair)
            and (query.outcome is None or (t.pnl > 0) == (query.outcome.value == "won"))
        ]
        first = query.page * query.page_size
        return TradePage(query, tuple(match[first : first + query.page_size]), len(match), "USDT")

    async def tax_report(self, year: int, method: TaxMethod = TaxMethod.FIFO) -> DocumentFile:
        start, end = date(year - 1, 7, 1), date(year, 6, 30)  # Australian financial year
        rows = [t for t in self.s.trades if start <= t.closed_at.date() <= end]
        if not rows:
            raise DataError(
                f"no trades in FY{year}", user_message=f"No closed trades in the financial year {year}."
            )
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["id", "pair", "closed_at", "pnl"])
        writer.writerows([t.id, t.pair, t.closed_at.isoformat(), str(t.pnl)] for t in rows)
        return DocumentFile(f"tax-FY{year}-{method.value}.csv", out.getvalue().encode(),
                            f"Capital gains FY{year} ({method.label})")
