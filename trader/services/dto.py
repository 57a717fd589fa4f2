"""Frozen values the services return to front ends (Telegram handlers, CLI); no ORM rows or ccxt dicts.

Money is ``Decimal`` in the quote currency unless a field says otherwise; times are aware UTC datetimes;
percentages are fractions (0.05 = 5 %). Requests (``TradeQuery``, ``ChartRequest``...) are validated by
the caller's parser before they reach a service; services still refuse what they cannot serve (unknown
pair, unknown strategy) by raising ``trader.core.errors.DataError``/``InputError`` with a ``user_message``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from trader.core.analytics.tables import Outcome as Outcome  # noqa: PLC0414 - the /trades filter
from trader.core.analytics.tax.parcels import MatchMethod
from trader.core.domain.enums import Direction, ExitReason, Mode, ProtectionKind, TradingState
from trader.live.parameters import ParamView as ParamView  # noqa: PLC0414 - re-exported
from trader.live.parameters import SettingChange as SettingChange  # noqa: PLC0414 - re-exported
from trader.services.ops_views import JobView as JobView  # noqa: PLC0414 - re-exported
from trader.services.ops_views import NewsView as NewsView  # noqa: PLC0414 - re-exported
from trader.services.pair_dto import PairGroupView
from trader.services.venue_dto import AssetBalance as AssetBalance  # noqa: PLC0414 - re-exported
from trader.services.venue_dto import VenueBalance as VenueBalance  # noqa: PLC0414 - re-exported
from trader.services.venue_dto import VenueState as VenueState  # noqa: PLC0414 - re-exported


class Role(StrEnum):
    """Who may do what from a front end: admin everything, trader trade and pause, viewer look only."""

    VIEWER = "viewer"
    TRADER = "trader"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Return 0 for VIEWER up to 2 for ADMIN."""
        return list(Role).index(self)

    def can(self, needed: Role) -> bool:
        """Return True when this role is at least ``needed``."""
        return self.rank >= needed.rank


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asked for a change: recorded in the audit log with every control action."""

    user_id: int
    chat_id: int
    role: Role
    name: str = ""
    channel: str = "telegram"  # "telegram", "api" (a bearer token), "miniapp", "webhook"

    @property
    def label(self) -> str:
        """Return the audit-log actor name: 'telegram:42', 'miniapp:42', 'api:<token name>'."""
        if self.channel in ("telegram", "miniapp"):
            return f"{self.channel}:{self.user_id}"
        return f"{self.channel}:{self.name or self.user_id}"


# ── live state ───────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class PositionView:
    """One open position as shown by /status and /positions."""

    id: str
    pair: str
    direction: Direction
    amount: Decimal  # base currency
    entry_price: Decimal
    current_price: Decimal | None  # None when no price could be fetched
    pnl: Decimal  # unrealised, quote currency, after estimated fees
    pnl_fraction: Decimal
    stop_price: Decimal | None
    take_profit: Decimal | None
    trailing_active: bool
    protection: ProtectionKind
    opened_at: datetime
    strategy: str = ""
    trailing_distance: Decimal | None = None  # fraction, when trailing is configured
    leverage: Decimal = Decimal(1)  # above 1 only on a perpetual swap
    liquidation_price: Decimal | None = None  # perpetual swaps: where the venue would close it
    funding: Decimal = Decimal(0)  # perpetual swaps: funding paid so far (negative: received)
    venue: str = ""  # the venue account holding it ("" in a single-venue service)

    @property
    def is_futures(self) -> bool:
        """Return True when the position is on a perpetual swap (leverage, liquidation or funding known)."""
        return self.leverage != 1 or self.liquidation_price is not None or self.funding != 0


@dataclass(frozen=True, slots=True)
class StatusView:
    """Trading state plus open positions (/status)."""

    state: TradingState
    mode: Mode
    quote: str
    positions: tuple[PositionView, ...]
    halted_reason: str | None = None
    venues: tuple[VenueState, ...] = ()  # one per venue account when a service trades several


@dataclass(frozen=True, slots=True)
class BalanceView:
    """Account equity and per-asset balances (/balance)."""

    quote: str
    equity: Decimal
    free: Decimal
    exposure: Decimal
    assets: tuple[AssetBalance, ...]
    mode: Mode = Mode.PAPER
    venues: tuple[VenueBalance, ...] = ()  # per account when a service trades several; the totals above


@dataclass(frozen=True, slots=True)
class HealthView:
    """Liveness of the moving parts (/health)."""

    state: TradingState
    mode: Mode
    exchange_ok: bool
    store_ok: bool
    scheduler_ok: bool
    last_tick_at: datetime | None
    uptime_seconds: float
    open_positions: int
    problems: tuple[str, ...] = ()
    last_backup_at: datetime | None = None
    last_backup_bytes: int | None = None
    venue_breaker: str = ""  # the venue's circuit breaker: closed, open, half_open ("" in a replay)
    venue_since: datetime | None = None  # open/half-open: when the outage began; closed: when it closed


@dataclass(frozen=True, slots=True)
class LockView:
    """A pair that may not be entered until ``until`` (cooldown, guard or manual lock)."""

    pair: str
    until: datetime
    reason: str


# ── history and reports ──────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class ProfitView:
    """Profit summary over the last ``days`` days, or all time when ``days`` is None (/profit)."""

    quote: str
    days: int | None
    realised: Decimal
    unrealised: Decimal
    closed_trades: int
    wins: int
    losses: int
    fees: Decimal
    win_rate: Decimal | None = None  # None when no closed trades
    profit_factor: float | None = None  # inf with wins and no losses; None without wins or losses
    max_drawdown: Decimal | None = None  # a fraction, from the equity snapshots
    first_trade_at: datetime | None = None
    # from the daily closes of the equity snapshots (annualised with 365 days); None with under 2 days
    sharpe: float | None = None
    sortino: float | None = None
    volatility: float | None = None  # a fraction
    venues: tuple[VenueProfit, ...] = ()  # per account when a service trades several; the totals above


@dataclass(frozen=True, slots=True)
class VenueProfit:
    """One venue account's /profit; ``in_total`` is False when its quote differs from the totals'."""

    venue: str
    profit: ProfitView
    in_total: bool = True


class PeriodKind(StrEnum):
    """Calendar buckets for /daily, /weekly, /monthly (in the risk timezone)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class PeriodRow:
    """Closed-trade result for one calendar bucket starting on ``start``."""

    start: date
    trades: int
    pnl: Decimal
    pnl_fraction: Decimal  # of equity at the bucket's start


@dataclass(frozen=True, slots=True)
class PeriodTable:
    """Rows newest first."""

    kind: PeriodKind
    quote: str
    rows: tuple[PeriodRow, ...]


class GroupBy(StrEnum):
    """What /performance groups closed trades by."""

    PAIR = "pair"
    STRATEGY = "strategy"


@dataclass(frozen=True, slots=True)
class GroupPerformance:
    """Closed-trade result for one pair or strategy (/performance), best first."""

    key: str  # the pair or the strategy
    trades: int
    pnl: Decimal
    pnl_fraction: Decimal  # average per trade
    win_rate: Decimal


@dataclass(frozen=True, slots=True)
class TradeQuery:
    """A page of closed trades, newest first; ``page`` counts from 0; ``since``/``until`` bound the close."""

    pair: str | None = None
    outcome: Outcome | None = None
    page: int = 0
    page_size: int = 10
    strategy: str | None = None
    direction: Direction | None = None
    since: datetime | None = None  # closed at or after
    until: datetime | None = None  # closed before


@dataclass(frozen=True, slots=True)
class TradeView:
    """One closed trade."""

    id: str
    pair: str
    direction: Direction
    amount: Decimal
    entry_price: Decimal
    exit_price: Decimal
    pnl: Decimal
    pnl_fraction: Decimal
    opened_at: datetime
    closed_at: datetime
    exit_reason: ExitReason
    strategy: str = ""
    venue: str = ""  # the venue account it was traded on ("" in a single-venue service)


@dataclass(frozen=True, slots=True)
class TradePage:
    """One page of trades plus the total count matching the query."""

    query: TradeQuery
    trades: tuple[TradeView, ...]
    total: int
    quote: str = "USDT"

    @property
    def pages(self) -> int:
        """Return how many pages the query has (at least 1)."""
        return max(1, -(-self.total // self.query.page_size))

    @property
    def has_next(self) -> bool:
        """Return True when a later page exists."""
        return self.query.page + 1 < self.pages

    @property
    def has_previous(self) -> bool:
        """Return True when an earlier page exists."""
        return self.query.page > 0


TaxMethod = MatchMethod  # the parcel-matching methods /tax offers: exactly those the export supports


@dataclass(frozen=True, slots=True)
class DocumentFile:
    """A file to send (tax report CSV): name, bytes, one-line caption."""

    filename: str
    content: bytes
    caption: str = ""
    mime_type: str = "text/csv"


# ── charts and backtests ─────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class ChartRequest:
    """Candles of ``pair`` on ``timeframe``, the last ``candles`` of them."""

    pair: str
    timeframe: str = "1h"
    candles: int = 120


@dataclass(frozen=True, slots=True)
class ChartImage:
    """A rendered chart: PNG bytes and a caption."""

    png: bytes
    caption: str = ""


@dataclass(frozen=True, slots=True)
class BacktestRequest:
    """Backtest ``strategy`` on ``pair`` over the last ``days`` days of ``timeframe`` candles."""

    strategy: str
    pair: str
    timeframe: str = "1h"
    days: int = 90


@dataclass(frozen=True, slots=True)
class BacktestHalt:
    """The run's risk memory halted trading at ``at`` (e.g. the drawdown limit), with the reason."""

    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class RefusedEntries:
    """Entry signals risk refused for one rule (a RefusalReason value): how many, first and last time."""

    reason: str
    count: int
    first: datetime
    last: datetime


@dataclass(frozen=True, slots=True)
class BacktestReport:
    """Summary of one backtest run plus its equity chart and its candles-with-trades chart.

    ``halts``, ``daily_loss_days`` and ``refusals`` say why the run stopped trading (empty: it never did).
    """

    request: BacktestRequest
    start: datetime
    end: datetime
    trades: int
    win_rate: Decimal | None
    total_return: Decimal  # a fraction
    max_drawdown: Decimal  # a fraction
    profit_factor: float | None  # inf with wins and no losses
    sharpe: float | None
    final_equity: Decimal
    quote: str = "USDT"
    chart: ChartImage | None = None
    trades_chart: ChartImage | None = None
    halts: tuple[BacktestHalt, ...] = ()
    daily_loss_days: tuple[date, ...] = ()
    refusals: tuple[RefusedEntries, ...] = ()  # most refused rule first


@dataclass(frozen=True, slots=True)
class BacktestRunView:
    """One stored backtest run for comparison: what ran, over which period, its headline KPIs.

    Ratios are fractions (0.12 = 12 %), None when the run did not record them; ``changed`` holds the
    parameters that differ from the strategy's defaults, as (name, value) text pairs.
    """

    id: int
    created_at: datetime
    strategy: str
    pairs: tuple[str, ...]
    timeframe: str
    start: datetime
    end: datetime
    trades: int | None
    total_return: float | None
    max_drawdown: float | None
    sharpe: float | None
    win_rate: float | None
    profit_factor: float | None
    changed: tuple[tuple[str, str], ...] = ()


# ── strategies and settings ──────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class StrategyView:
    """A registered strategy and whether it trades now."""

    name: str
    description: str
    enabled: bool
    pairs: tuple[str, ...] = ()
    timeframe: str = ""
    params: tuple[ParamView, ...] = ()


@dataclass(frozen=True, slots=True)
class SettingsView:
    """Risk and strategy parameters that /settings may change."""

    params: tuple[ParamView, ...]


# ── control ──────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class ControlResult:
    """Outcome of a control action; a refusal is a value (``ok`` False, ``refused_reason`` set)."""

    ok: bool
    message: str
    refused_reason: str | None = None
    position_ids: tuple[str, ...] = ()  # the positions an entry opened (a basket buy records them)


@dataclass(frozen=True, slots=True)
class ClosePreview:
    """What /close would close; ``target`` is a position id or None for all."""

    target: str | None
    positions: tuple[PositionView, ...]
    groups: tuple[PairGroupView, ...] = ()  # open pair groups it would close (both legs each)


@dataclass(frozen=True, slots=True)
class BuyPreview:
    """A manual entry as the engine would send it now (``step`` run dry), waiting for confirmation."""

    pair: str
    amount: Decimal  # base: what will be sent, after risk's caps, rounded down to the market's precision
    price: Decimal  # last price used for the estimate
    cost: Decimal  # quote, before fees
    stop_price: Decimal | None
    take_profit: Decimal | None = None
    quote: str = "USDT"
    capped_by: str | None = None  # the risk cap that shrank the amount (None: not shrunk)
    requested: Decimal | None = None  # the amount the user asked for (None: sized by risk)


# ── system ───────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class VersionView:
    """Program version and runtime facts (/version)."""

    version: str
    python: str
    telegram_library: str = ""
    exchange: str = ""
    mode: Mode = Mode.PAPER


@dataclass(frozen=True, slots=True)
class ConfigView:
    """Effective configuration as dotted key/value lines, secrets already masked (/config)."""

    lines: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class LogView:
    """The last log lines, oldest first, secrets already redacted (/logs)."""

    lines: tuple[str, ...]
