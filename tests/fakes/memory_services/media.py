"""Chart, backtest, system and audit test doubles, and the Services bundle over MemoryState."""

from __future__ import annotations

import asyncio
import functools
import io
import platform
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd

from tests.fakes.memory_services.control import MemoryControl
from tests.fakes.memory_services.portfolio import memory_portfolio
from tests.fakes.memory_services.reads import MemoryQueries, MemoryReports
from tests.fakes.memory_services.state import MARKETS, NOW, STRATEGIES, MemoryState
from trader.adapters.store.memory.uow import MemoryStore
from trader.config import ExchangeConfig, RiskConfig
from trader.core.domain.candles import CandleFrame, timeframe_ms
from trader.core.domain.enums import Mode
from trader.core.errors import DataError
from trader.core.strategies.registry import default_registry
from trader.ports.charts import CandleChart, ChartRenderer, LevelKind, PriceLevel
from trader.ports.news import FeedEntry
from trader.runtime.clock import SimClock
from trader.services.api import Services
from trader.services.drift import DriftService, DriftSetup
from trader.services.dto import (
    BacktestReport,
    BacktestRequest,
    BacktestRunView,
    ChartImage,
    ChartRequest,
    ConfigView,
    LogView,
    VersionView,
)
from trader.services.news import NewsService

SAMPLE_DIR = Path(__file__).resolve().parents[3] / "trader" / "data" / "sample"


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


@functools.cache
def sample_candles(pair: str) -> CandleFrame:
    """Return the bundled 1h sample candles of ``pair`` (BTC/USDT, ETH/USDT)."""
    path = SAMPLE_DIR / f"{pair.replace('/', '_')}-1h.csv.gz"
    return CandleFrame.from_dataframe(pd.read_csv(path))


class MemoryCharts:
    """ChartService test double: gathers sample candles, open positions' levels and closed trades,
    then renders through the real ChartRenderer (trader/adapters/charts) in a worker thread."""

    def __init__(self, s: MemoryState, renderer: ChartRenderer | None = None, theme: str = "dark") -> None:
        self.s = s
        if renderer is None:
            from trader.adapters.charts.renderer import (
                MatplotlibChartRenderer,  # matplotlib only when charts are used
            )

            renderer = MatplotlibChartRenderer()
        self.renderer: ChartRenderer = renderer
        self.theme = theme

    async def candles(self, request: ChartRequest) -> ChartImage:
        if request.pair not in MARKETS:
            raise DataError("unknown pair", user_message=f"No candles for {request.pair}.")
        frame = sample_candles(request.pair)
        if request.timeframe != "1h" and timeframe_ms(request.timeframe) > timeframe_ms("1h"):
            frame = frame.resample(request.timeframe)
        levels = [
            PriceLevel(kind, float(price))
            for p in self.s.positions.values()
            if p.pair == request.pair
            for kind, price in ((LevelKind.STOP, p.stop_price), (LevelKind.TAKE_PROFIT, p.take_profit))
            if price is not None
        ]
        chart = CandleChart(f"{request.pair} {request.timeframe}", frame.tail(request.candles), levels=levels)
        png = await asyncio.to_thread(self.renderer.candles, chart, self.theme)
        return ChartImage(png, f"{request.pair} {request.timeframe}, last {request.candles} candles")

    async def equity(self) -> ChartImage:
        days = pd.date_range(end=NOW, periods=90, freq="D")
        values = [10_000.0 + sum(float(t.pnl) for t in self.s.trades if t.closed_at <= day) for day in days]
        curve = pd.Series(values, index=days)
        png = await asyncio.to_thread(self.renderer.equity, curve, "Equity", self.theme)
        return ChartImage(png, "Equity, last 90 days")


class MemoryBacktests:
    """BacktestService test double: known strategies and pairs only; remembers the runs it made."""

    def __init__(self) -> None:
        self.runs: list[BacktestRunView] = []

    async def recent(self, limit: int = 5) -> tuple[BacktestRunView, ...]:
        return tuple(reversed(self.runs))[:limit]

    async def run(self, request: BacktestRequest) -> BacktestReport:
        if request.strategy not in STRATEGIES:
            raise DataError(
                "unknown strategy", user_message=f"Unknown strategy {request.strategy}; see /strategies."
            )
        if request.pair not in MARKETS:
            raise DataError("unknown pair", user_message=f"No candles for {request.pair}.")
        png = await asyncio.to_thread(render_png, "Backtest equity", [1.0, 1.1, 1.05, 1.2])
        self.runs.append(BacktestRunView(
            len(self.runs) + 1, NOW, request.strategy, (request.pair,), request.timeframe,
            NOW - timedelta(days=request.days), NOW, 12, 0.2, 0.08, 1.1, 0.5, 1.8))
        return BacktestReport(
            request,
            NOW - timedelta(days=request.days),
            NOW,
            12,
            Decimal("0.5"),
            Decimal("0.2"),
            Decimal("0.08"),
            1.8,
            1.1,
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
        # the real drift service over an empty in-memory store: it answers that nothing has traded yet
        DriftService(MemoryStore().uow_factory, SimClock(NOW),
                     DriftSetup(ExchangeConfig(), RiskConfig(), (), default_registry())),
        # the real news service over the state's in-memory store; tests add headlines to state.store
        NewsService(state.store.uow_factory, NoFeeds(), SimClock(NOW), feeds=(), tickers=("BTC", "ETH")),
        # the real portfolio service over the same store, priced by fixed in-memory prices
        memory_portfolio(state),
    )


class NoFeeds:
    """A feed reader for a service configured with no feeds (refresh never calls it)."""

    async def read(self, url: str) -> tuple[str, list[FeedEntry]]:
        raise AssertionError(f"no feed is configured, yet {url} was read")
