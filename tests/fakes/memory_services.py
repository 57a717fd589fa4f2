"""Test double of OUR service layer (trader.services.api) over an in-memory state.

The live engine's services are built elsewhere; the Telegram tests need services that behave like
them: validate, refuse with reasons, change state only on valid actions, and count every change
(``MemoryState.changes``) so tests can prove an invalid command changed nothing. Money is Decimal and
amounts round down with the domain's ``MarketSpec``; charts are real PNGs rendered with matplotlib's
Figure API from the bundled sample candles.
"""

from __future__ import annotations

import asyncio
import csv
import io
import platform
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from trader.domain.enums import Direction, ExitReason, Mode, ProtectionKind, TradingState
from trader.domain.ids import Symbol
from trader.domain.market import MarketSpec
from trader.errors import DataError, InputError
from trader.positions.pnl import price_gain
from trader.services.api import Services
from trader.services.dto import (
    Actor,
    AssetBalance,
    BacktestReport,
    BacktestRequest,
    BalanceView,
    BuyPreview,
    ChartImage,
    ChartRequest,
    ClosePreview,
    ConfigView,
    ControlResult,
    DocumentFile,
    HealthView,
    LockView,
    LogView,
    PairPerformance,
    ParamView,
    PeriodKind,
    PeriodRow,
    PeriodTable,
    PositionView,
    ProfitView,
    SettingChange,
    SettingsView,
    StatusView,
    StrategyView,
    TradePage,
    TradeQuery,
    TradeView,
    VersionView,
)

NOW = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)
MARKETS = {
    "BTC/USDT": MarketSpec(
        Symbol("BTC/USDT"),
        "BTC",
        "USDT",
        Decimal("0.00001"),
        Decimal("0.01"),
        min_amount=Decimal("0.00001"),
        min_cost=Decimal(5),
    ),
    "ETH/USDT": MarketSpec(
        Symbol("ETH/USDT"),
        "ETH",
        "USDT",
        Decimal("0.0001"),
        Decimal("0.01"),
        min_amount=Decimal("0.0001"),
        min_cost=Decimal(5),
    ),
}
STRATEGIES = ("breakout", "bollinger_reversion")


@dataclass
class Setting:
    """One tunable parameter with its bounds (exclusive low, inclusive high)."""

    value: Decimal
    low: Decimal
    high: Decimal


@dataclass
class MemoryState:
    """Everything the services read and change; ``changes`` counts every mutation."""

    state: TradingState = TradingState.ACTIVE
    halted_reason: str | None = None
    cash: Decimal = Decimal(10_000)
    prices: dict[str, Decimal] = field(
        default_factory=lambda: {"BTC/USDT": Decimal(60_000), "ETH/USDT": Decimal(3_000)}
    )
    positions: dict[str, PositionView] = field(default_factory=dict)
    trades: list[TradeView] = field(default_factory=list)
    locks: dict[str, LockView] = field(default_factory=dict)
    settings: dict[str, Setting] = field(
        default_factory=lambda: {
            "risk.risk_per_trade": Setting(Decimal("0.01"), Decimal(0), Decimal("0.1")),
            "risk.max_open_positions": Setting(Decimal(5), Decimal(0), Decimal(50)),
            "breakout.period": Setting(Decimal(20), Decimal(1), Decimal(500)),
        }
    )
    audit: list[tuple[str, str, str, str]] = field(default_factory=list)
    logs: list[str] = field(
        default_factory=lambda: [f"2024-07-01 12:00:{i:02d} INFO tick ok" for i in range(60)]
    )
    changes: int = 0
    next_id: int = 1

    def changed(self) -> None:
        """Count one mutation."""
        self.changes += 1

    def open_position(
        self,
        pair: str,
        amount: Decimal,
        entry: Decimal,
        *,
        stop: Decimal | None = None,
        take_profit: Decimal | None = None,
        trailing: bool = False,
    ) -> PositionView:
        """Add an open long position (test set-up and /buy)."""
        pid = f"P{self.next_id}"
        self.next_id += 1
        view = PositionView(
            pid,
            pair,
            Direction.LONG,
            amount,
            entry,
            self.prices[pair],
            Decimal(0),
            Decimal(0),
            stop,
            take_profit,
            trailing,
            ProtectionKind.NATIVE,
            NOW,
            "breakout",
            Decimal("0.03") if trailing else None,
        )
        self.positions[pid] = self.marked(view)
        self.cash -= amount * entry
        return self.positions[pid]

    def marked(self, p: PositionView) -> PositionView:
        """Return ``p`` with the current price and unrealised PnL."""
        mark = self.prices[p.pair]
        pnl = price_gain(p.direction, p.entry_price, mark, p.amount)
        return replace(p, current_price=mark, pnl=pnl, pnl_pct=pnl / (p.entry_price * p.amount))

    def add_trades(self, count: int) -> None:
        """Add ``count`` closed trades alternating win/loss and pair, one per day back from NOW."""
        for i in range(count):
            pair = "BTC/USDT" if i % 2 == 0 else "ETH/USDT"
            pnl = Decimal(25 + i) if i % 3 else Decimal(-(10 + i))
            closed = NOW - timedelta(days=i)
            self.trades.append(
                TradeView(
                    f"T{i + 1}",
                    pair,
                    Direction.LONG,
                    Decimal("0.01"),
                    Decimal(100),
                    Decimal(100) + pnl,
                    pnl,
                    pnl / Decimal(1000),
                    closed - timedelta(hours=5),
                    closed,
                    ExitReason.TAKE_PROFIT if pnl > 0 else ExitReason.STOP_LOSS,
                    "breakout",
                )
            )


class MemoryQueries:
    """QueryService over MemoryState."""

    def __init__(self, s: MemoryState) -> None:
        self.s = s

    async def status(self) -> StatusView:
        return StatusView(self.s.state, Mode.PAPER, "USDT", await self.positions(), self.s.halted_reason)

    async def positions(self) -> tuple[PositionView, ...]:
        return tuple(self.s.marked(p) for p in self.s.positions.values())

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

    async def performance(self) -> tuple[PairPerformance, ...]:
        rows = []
        for pair in sorted({t.pair for t in self.s.trades}):
            mine = [t for t in self.s.trades if t.pair == pair]
            pnl = sum((t.pnl for t in mine), Decimal(0))
            won = Decimal(sum(1 for t in mine if t.pnl > 0)) / len(mine)
            rows.append(PairPerformance(pair, len(mine), pnl, pnl / len(mine) / 1000, won))
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

    async def tax_report(self, year: int) -> DocumentFile:
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
        return DocumentFile(f"tax-FY{year}.csv", out.getvalue().encode(), f"Capital gains FY{year}")


class MemoryControl:
    """ControlService over MemoryState: validates, refuses as values, counts changes, audits."""

    def __init__(self, s: MemoryState) -> None:
        self.s = s

    def _audit(self, actor: Actor, action: str, detail: str = "") -> None:
        self.s.audit.append((actor.label, action, detail, "ok"))

    async def pause(self, actor: Actor) -> ControlResult:
        if self.s.state is not TradingState.ACTIVE:
            return ControlResult(False, "Not paused", f"trading is {self.s.state.value}")
        self.s.state = TradingState.PAUSED
        self.s.changed()
        self._audit(actor, "pause")
        return ControlResult(True, "Paused: no new positions; open ones stay protected.")

    async def resume(self, actor: Actor) -> ControlResult:
        if self.s.state is TradingState.ACTIVE:
            return ControlResult(False, "Already active", "trading is active")
        self.s.state, self.s.halted_reason = TradingState.ACTIVE, None
        self.s.changed()
        self._audit(actor, "resume")
        return ControlResult(True, "Trading resumed.")

    async def halt(self, actor: Actor, *, flatten: bool) -> ControlResult:
        self.s.state, self.s.halted_reason = TradingState.HALTED, f"halted by {actor.name or actor.user_id}"
        closed = len(self.s.positions) if flatten else 0
        if flatten:
            await self._close_all()
        self.s.changed()
        self._audit(actor, "halt", f"flatten={flatten}")
        return ControlResult(
            True, f"Trading halted; closed {closed} positions." if flatten else "Trading halted."
        )

    async def preview_close(self, target: str | None) -> ClosePreview:
        if target is not None and target not in self.s.positions:
            raise InputError(
                f"unknown position {target}", user_message=f"No open position {target}; see /positions."
            )
        chosen = [p for p in self.s.positions.values() if target is None or p.id == target]
        return ClosePreview(target, tuple(self.s.marked(p) for p in chosen))

    async def close(self, target: str | None, actor: Actor) -> ControlResult:
        if target is not None and target not in self.s.positions:
            return ControlResult(False, "Nothing closed", f"position {target} is no longer open")
        if target is None:
            count = await self._close_all()
        else:
            self._close(target)
            count = 1
        self.s.changed()
        self._audit(actor, "close", str(target))
        return ControlResult(True, f"Closed {count} position{'s' if count != 1 else ''}.")

    async def _close_all(self) -> int:
        ids = list(self.s.positions)
        for pid in ids:
            self._close(pid)
        return len(ids)

    def _close(self, pid: str) -> None:
        p = self.s.marked(self.s.positions.pop(pid))
        self.s.cash += p.amount * (p.current_price or p.entry_price)
        self.s.trades.insert(
            0,
            TradeView(
                pid,
                p.pair,
                p.direction,
                p.amount,
                p.entry_price,
                p.current_price or p.entry_price,
                p.pnl,
                p.pnl_pct,
                p.opened_at,
                NOW,
                ExitReason.MANUAL,
                p.strategy,
            ),
        )

    async def preview_buy(self, pair: str, amount: Decimal | None) -> BuyPreview:
        market = MARKETS.get(pair)
        if market is None:
            raise DataError(
                f"unknown pair {pair}", user_message=f"Unknown pair {pair}; tradable: {', '.join(MARKETS)}"
            )
        price = self.s.prices[pair]
        sized = (
            amount
            if amount is not None
            else self.s.cash * self.s.settings["risk.risk_per_trade"].value / price
        )
        rounded = market.round_amount(sized)
        problem = market.minimums_problem(rounded, price)
        if problem:
            raise InputError(problem, user_message=f"Cannot buy: {problem}")
        stop = market.round_stop(price * Decimal("0.98"), Direction.LONG)
        return BuyPreview(pair, rounded, price, rounded * price, stop, None, "USDT")

    async def buy(self, preview: BuyPreview, actor: Actor) -> ControlResult:
        if self.s.state is not TradingState.ACTIVE:
            return ControlResult(False, "Not bought", f"trading is {self.s.state.value}")
        if preview.cost > self.s.cash:
            return ControlResult(False, "Not bought", "insufficient free balance")
        p = self.s.open_position(preview.pair, preview.amount, preview.price, stop=preview.stop_price)
        self.s.changed()
        self._audit(actor, "buy", f"{p.id} {preview.pair} {preview.amount}")
        return ControlResult(True, f"Bought {preview.amount} {preview.pair} as {p.id}.")

    async def preview_setting(self, key: str, value: str) -> SettingChange:
        setting = self.s.settings.get(key)
        if setting is None:
            raise InputError(f"unknown key {key}", user_message=f"Unknown setting {key}; see /settings.")
        try:
            new = Decimal(value)
        except ArithmeticError:
            raise InputError("not a number", user_message=f"{key} needs a number.") from None
        if not new.is_finite() or not setting.low < new <= setting.high:
            raise InputError(
                "out of bounds", user_message=f"{key} must be in {setting.low} < x <= {setting.high}."
            )
        return SettingChange(key, str(setting.value), str(new))

    async def apply_setting(self, change: SettingChange, actor: Actor) -> ControlResult:
        self.s.settings[change.key].value = Decimal(change.new)
        self.s.changed()
        self._audit(actor, "param.change", f"{change.key}: {change.old} → {change.new}")
        return ControlResult(True, f"{change.key} is now {change.new}.")

    async def unlock(self, pair: str, actor: Actor) -> ControlResult:
        if pair not in self.s.locks:
            return ControlResult(False, "Nothing unlocked", f"{pair} is not locked")
        del self.s.locks[pair]
        self.s.changed()
        self._audit(actor, "unlock", pair)
        return ControlResult(True, f"{pair} unlocked.")

    async def reload(self, actor: Actor) -> ControlResult:
        self.s.changed()
        self._audit(actor, "reload")
        return ControlResult(True, "Reloaded 2 strategies.")


def render_png(title: str, values: list[float]) -> bytes:
    """Render a small line chart to PNG bytes with the Figure API (never pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 2.5), dpi=60)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(values)
    ax.set_title(title)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


class MemoryCharts:
    """ChartService test double: real PNGs of sample-like data, rendered off the event loop."""

    def __init__(self, s: MemoryState) -> None:
        self.s = s

    async def candles(self, request: ChartRequest) -> ChartImage:
        if request.pair not in MARKETS:
            raise DataError("unknown pair", user_message=f"No candles for {request.pair}.")
        values = [float(self.s.prices[request.pair]) * (1 + 0.001 * (i % 17)) for i in range(request.candles)]
        png = await asyncio.to_thread(render_png, f"{request.pair} {request.timeframe}", values)
        return ChartImage(png, f"{request.pair} {request.timeframe}, last {request.candles} candles")

    async def equity(self) -> ChartImage:
        png = await asyncio.to_thread(render_png, "Equity", [10_000.0 + i for i in range(50)])
        return ChartImage(png, "Equity")


class MemoryBacktests:
    """BacktestService test double: known strategies and pairs only."""

    async def run(self, request: BacktestRequest) -> BacktestReport:
        if request.strategy not in STRATEGIES:
            raise DataError(
                "unknown strategy", user_message=f"Unknown strategy {request.strategy}; see /strategies."
            )
        if request.pair not in MARKETS:
            raise DataError("unknown pair", user_message=f"No candles for {request.pair}.")
        png = await asyncio.to_thread(render_png, "Backtest equity", [1.0, 1.1, 1.05, 1.2])
        return BacktestReport(
            request,
            NOW - timedelta(days=request.days),
            NOW,
            12,
            Decimal("0.5"),
            Decimal("0.2"),
            Decimal("0.08"),
            Decimal("1.8"),
            Decimal("1.1"),
            Decimal(12_000),
            chart=ChartImage(png, "equity"),
        )


class MemorySystem:
    """SystemService test double."""

    def __init__(self, s: MemoryState) -> None:
        self.s = s

    async def version(self) -> VersionView:
        return VersionView("0.1.0", platform.python_version(), "22.8", "binance", Mode.PAPER)

    async def config(self) -> ConfigView:
        return ConfigView((("exchange.name", "binance"), ("telegram.token", "********")))

    async def logs(self, lines: int) -> LogView:
        return LogView(tuple(self.s.logs[-lines:]))


class MemoryAudit:
    """AuditService test double (same signature as trader.services.audit.AuditService.record)."""

    def __init__(self, s: MemoryState) -> None:
        self.s = s

    async def record(self, actor: str, action: str, detail: str = "", result: str = "ok") -> int:
        self.s.audit.append((actor, action, detail, result))
        return len(self.s.audit)


def memory_services(state: MemoryState) -> Services:
    """Return a Services bundle over ``state``."""
    return Services(
        MemoryQueries(state),
        MemoryReports(state),
        MemoryControl(state),
        MemoryCharts(state),
        MemoryBacktests(),
        MemorySystem(state),
        MemoryAudit(state),
    )
