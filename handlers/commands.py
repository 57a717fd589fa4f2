"""The one command table: feeds handler registration, setMyCommands, /help and the role checks."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import Update

from handlers import admin, backtest, charts, dashboard, news, portfolio, reports, settings, status, trading
from handlers.context import BotContext
from handlers.keyboards import (
    BuyChoice,
    CancelChoice,
    CloseChoice,
    HaltChoice,
    PageChoice,
    SettingChoice,
)
from trader.services.dto import Role

HandlerCallback = Callable[[Update, BotContext], Coroutine[Any, Any, None]]
V, T, A = Role.VIEWER, Role.TRADER, Role.ADMIN


@dataclass(frozen=True, slots=True)
class Command:
    """One bot command: ``public`` answers strangers too (only /whoami); ``slow`` runs beside other updates.

    A slow command (rendering, backtests, exports) runs as its own task so a /halt sent meanwhile is
    handled at once instead of queueing behind it.
    """

    name: str
    callback: HandlerCallback
    role: Role
    help: str
    usage: str = ""
    public: bool = False
    slow: bool = False

    @property
    def usage_line(self) -> str:
        """Return the usage shown on a bad argument."""
        return self.usage or f"/{self.name}"


COMMANDS: tuple[Command, ...] = (
    Command("start", admin.start, V, "Introduce the bot and your role"),
    Command("help", admin.help_command, V, "List the commands you may use"),
    Command("status", status.status, V, "Open positions with price, PnL, stop and take-profit"),
    Command("positions", status.positions, V, "Compact list of open positions"),
    Command("balance", status.balance, V, "Equity and balances"),
    Command("profit", reports.profit, V, "Profit summary", "/profit [days]"),
    Command("performance", reports.performance, V, "Results per pair or per strategy",
            "/performance [pair|strategy]"),
    Command("daily", reports.daily, V, "Profit per day", "/daily [days]"),
    Command("weekly", reports.weekly, V, "Profit per week", "/weekly [weeks]"),
    Command("monthly", reports.monthly, V, "Profit per month", "/monthly [months]"),
    Command("trades", reports.trades, V, "Closed trades, page by page", "/trades [PAIR] [n] [won|lost]"),
    Command("chart", charts.chart, V, "Candlestick chart of a pair", "/chart PAIR [timeframe] [candles]",
            slow=True),
    Command("equity", charts.equity, V, "Equity curve with drawdown", slow=True),
    Command("backtest", backtest.backtest, T, "Backtest a strategy on a pair",
            "/backtest STRATEGY PAIR [timeframe] [period, e.g. 90d]", slow=True),
    Command("backtests", backtest.backtests, V, "Stored backtests side by side", "/backtests [n]"),
    Command("drift", reports.drift, V, "The account's trades against a backtest of the same period",
            "/drift [YYYY-MM-DD]", slow=True),
    Command("strategies", status.strategies, V, "Strategies and their parameters"),
    Command("settings", settings.settings, A, "View or change a risk or strategy parameter",
            "/settings [KEY VALUE]"),
    Command("pause", trading.pause, T, "Stop opening positions (open ones stay protected)"),
    Command("resume", trading.resume, T, "Allow new positions again"),
    Command("halt", trading.halt, T, "Halt trading, optionally closing everything", "/halt [flatten]"),
    Command("close", trading.close, T, "Close one position or all", "/close ID|all"),
    Command("buy", trading.buy, T, "Open a position by hand", "/buy PAIR [amount]"),
    Command("dashboard", dashboard.dashboard, V, "Open the web dashboard inside Telegram"),
    Command("health", status.health, V, "Exchange, database and scheduler health"),
    Command("jobs", status.jobs, V, "Scheduled jobs: last run, duration, outcome, next run"),
    Command("news", news.news, V, "Newest crypto headlines, or those about one asset", "/news [ASSET]"),
    Command("portfolio", portfolio.portfolio, V, "A basket valued: chart by category, top movers, table",
            "/portfolio [BASKET]", slow=True),
    Command("holdings", portfolio.holdings, V, "What each basket holds and what it cost",
            "/holdings [BASKET]"),
    Command("version", admin.version, V, "Program version"),
    Command("config", admin.config, A, "Effective configuration (secrets masked)"),
    Command("reload", admin.reload, A, "Reload strategies and parameters"),
    Command("locks", status.locks, V, "Pairs locked against new entries"),
    Command("unlock", trading.unlock, A, "Remove the entry lock on a pair", "/unlock PAIR"),
    Command("whoami", admin.whoami, V, "Show your chat id and role", public=True),
    Command("tax", reports.tax, A, "Capital-gains report for a financial year (parcel matching method)",
            "/tax YEAR [fifo|highest-cost|lowest-cost]", slow=True),
    Command("logs", admin.logs, A, "Last log lines", "/logs [lines]"),
)

BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}


@dataclass(frozen=True, slots=True)
class Button:
    """An inline-button kind: its callback-data type, handler, and the command whose role it needs."""

    kind: type
    callback: HandlerCallback
    command: str


BUTTONS: tuple[Button, ...] = (
    Button(HaltChoice, trading.confirm_halt, "halt"),
    Button(CloseChoice, trading.confirm_close, "close"),
    Button(BuyChoice, trading.confirm_buy, "buy"),
    Button(SettingChoice, settings.confirm_setting, "settings"),
    Button(PageChoice, reports.trades_page, "trades"),
    Button(CancelChoice, trading.cancel, "start"),
)


def command_for(name: str) -> Command | None:
    """Return the command named ``name`` (case-insensitive, '@botname' stripped), if it exists."""
    return BY_NAME.get(name.split("@", 1)[0].lower())


def button_for(data: object) -> Button | None:
    """Return the button kind of an inline-button's callback data, if it is one of ours."""
    return next((b for b in BUTTONS if isinstance(data, b.kind)), None)


def visible_to(role: Role) -> tuple[Command, ...]:
    """Return the commands ``role`` may use, in table order."""
    return tuple(c for c in COMMANDS if role.can(c.role))
