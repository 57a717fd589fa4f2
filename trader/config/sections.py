"""Frozen configuration sections; pure data that the core may take as arguments.

Fractions are plain fractions (0.01 = 1 %). Unknown fields are rejected so a typo fails at start-up.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

Fraction = Annotated[Decimal, Field(ge=0, le=1)]
PositiveFraction = Annotated[Decimal, Field(gt=0, le=1)]


def _timeframe(value: str | None) -> str | None:
    """Return ``value`` when it is a timeframe the candle code understands ('1h', '4h', '1d')."""
    from trader.core.domain.candles import timeframe_ms  # the one parser of timeframes

    if value is not None:
        timeframe_ms(value)  # ValueError names the problem and gives examples
    return value


def _pairs(v: tuple[str, ...]) -> tuple[str, ...]:
    """Return ``v`` upper-cased when every entry is a BASE/QUOTE pair."""
    bad = [p for p in v if p.count("/") != 1 or p.startswith("/") or p.endswith("/")]
    if bad:
        raise ValueError(f"not BASE/QUOTE pairs: {', '.join(bad)}")
    return tuple(p.upper() for p in v)


class Section(BaseModel):
    """Base of every section: frozen, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class DatabaseConfig(Section):
    """Where the store lives; SQLite file by default, PostgreSQL by URL."""

    url: str = "sqlite+aiosqlite:///./data/trader.db"
    echo: bool = False
    auto_upgrade: bool = True

    @field_validator("url")
    @classmethod
    def _known_driver(cls, v: str) -> str:
        if not v.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db")
        return v


class ExchangeConfig(Section):
    """Venue selection and credentials; ``api_base_url`` points ccxt at a local or proxy server."""

    name: str = "binance"
    mode: Literal["paper", "live"] = "paper"
    live_confirmed: bool = False  # live trading needs this set explicitly
    demo: bool = False  # live mode against the venue's demo/testnet (ccxt sandbox); no real money
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    api_password: SecretStr | None = None
    api_base_url: str | None = None
    pairs: tuple[str, ...] = ("BTC/USDT", "ETH/USDT")
    timeframe: str = "1h"
    quote_currency: str = "USDT"
    paper_start_balance: Annotated[Decimal, Field(gt=0)] = Decimal(10_000)
    paper_fee: Fraction = Decimal("0.001")
    paper_slippage: Fraction = Decimal("0.0005")
    replay: bool = False
    replay_speed: Annotated[float, Field(gt=0)] = 3600.0
    # replay of perpetuals: folder of funding-rate files (``tradebot data fetch --funding``) to charge
    replay_funding_dir: str | None = None
    timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10.0
    max_retries: Annotated[int, Field(ge=0, le=10)] = 4
    tp_swap_distance: Fraction = Decimal("0.005")

    _known_timeframe = field_validator("timeframe")(_timeframe)

    @field_validator("pairs")
    @classmethod
    def _pairs_look_like_pairs(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _pairs(v)

    def mode_refusal(self) -> str | None:
        """Return why this account cannot start in its mode, beginning with the field (None when it can).

        The one rule behind ``build_exchange`` and the start-up check (``tradebot config check``).
        """
        if self.mode == "live" and not self.live_confirmed and not self.demo:  # a demo holds no real money
            return "live_confirmed: set it to true to trade real money in live mode"
        if self.mode != "live" and self.demo:
            return ("demo: a demo account is traded by the live engine; start with --mode live "
                    "(or TRADER_EXCHANGE__MODE=live), or unset exchange.demo for paper")
        return None


class VenueConfig(Section):
    """One venue account of a service trading several (``[[venues]]``): a label, the exchange id and the
    account's own settings. A field left out takes the ``[exchange]`` section's value, so only what
    differs needs saying; keys may live in the secret store as ``venues.<name>.api_key`` etc.
    """

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]  # the account label strategies name
    exchange: str = "binance"  # the ccxt exchange id
    mode: Literal["paper", "live"] | None = None
    live_confirmed: bool | None = None
    demo: bool | None = None
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    api_password: SecretStr | None = None
    api_base_url: str | None = None
    pairs: tuple[str, ...] | None = None
    timeframe: str | None = None
    quote_currency: str | None = None
    paper_start_balance: Annotated[Decimal, Field(gt=0)] | None = None
    timeout_seconds: Annotated[float, Field(gt=0, le=120)] | None = None
    max_retries: Annotated[int, Field(ge=0, le=10)] | None = None
    market: Literal["spot", "swap"] = "spot"  # the wallet this account trades; its strategies must match
    data_venue: str | None = None  # exchange id whose public candles feed its strategies (e.g. nobitex)
    data_base_url: str | None = None  # api_base_url of the data venue (a proxy or a local server)
    database_url: str | None = None  # the account's own store; default: a SQLite file beside the main one

    _known_timeframe = field_validator("timeframe")(_timeframe)

    @field_validator("pairs")
    @classmethod
    def _pairs_look_like_pairs(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if v is None else _pairs(v)

    def exchange_config(self, base: ExchangeConfig) -> ExchangeConfig:
        """Return this account as an ``ExchangeConfig``: its own fields over ``base`` (``[exchange]``)."""
        own = {f: getattr(self, f) for f in type(self).model_fields
               if f in ExchangeConfig.model_fields and f != "name" and getattr(self, f) is not None}
        return base.model_copy(update={**own, "name": self.exchange})


class TrailingConfig(Section):
    """Trailing stop rules: distance, minimum step before moving the venue order, options."""

    enabled: bool = False
    distance: PositiveFraction = Decimal("0.03")
    min_step: Fraction = Decimal("0.001")
    activation_profit: Fraction = Decimal(0)
    progressive: bool = False
    progressive_tighten: Fraction = Decimal("0.5")  # distance shrinks by this share of profit
    min_distance: Fraction = Decimal("0.005")
    breakeven_at: Fraction | None = None  # move stop to entry after this profit


class DcaConfig(Section):
    """Position adjustment (DCA): safety orders against the trade, exits from the average entry price.

    Safety order k (1..``safety_orders``) is a market add sent when a candle closes ``k x step`` past the
    entry's reference price; its size is the first order's times ``size_scale`` ** k. With DCA on, the
    stop sits ``stop`` and the take-profit ``take_profit`` from the average entry price, re-planned after
    every add. ``safety_orders = 0`` turns it off.
    """

    safety_orders: Annotated[int, Field(ge=0, le=20)] = 0
    step: PositiveFraction = Decimal("0.02")
    size_scale: Annotated[Decimal, Field(gt=0, le=10)] = Decimal("1.5")
    take_profit: PositiveFraction = Decimal("0.02")
    stop: PositiveFraction = Decimal("0.12")

    @model_validator(mode="after")
    def _stop_beyond_the_ladder(self) -> DcaConfig:
        if self.safety_orders and self.stop <= self.step * self.safety_orders:
            raise ValueError(f"dca.stop ({self.stop}) must be wider than step x safety_orders "
                             f"({self.step * self.safety_orders}), or the stop fires before the last add")
        return self

    @property
    def enabled(self) -> bool:
        """Return True when safety orders are configured."""
        return self.safety_orders > 0


class RiskConfig(Section):
    """Sizing, caps and guards."""

    sizing: Literal["fixed_fraction", "confidence", "kelly", "all_in"] = "fixed_fraction"
    risk_per_trade: PositiveFraction = Decimal("0.01")
    min_confidence: Fraction = Decimal("0.5")
    kelly_fraction: Fraction = Decimal("0.25")
    kelly_min_trades: Annotated[int, Field(ge=1)] = 30
    kelly_max_risk: PositiveFraction = Decimal("0.02")  # Kelly never risks more than this at the stop
    expected_slippage: Fraction = Decimal("0.0005")
    max_position_pct: PositiveFraction = Decimal("0.25")
    max_exposure_pct: PositiveFraction = Decimal("1")
    # every venue account together ([[venues]]): their exposure as a fraction of their equity
    max_total_exposure_pct: PositiveFraction = Decimal("1")
    max_open_positions: Annotated[int, Field(ge=1)] = 5
    max_positions_per_pair: Annotated[int, Field(ge=1)] = 1
    cooldown_minutes: Annotated[int, Field(ge=0)] = 60
    cooldown_after_loss_minutes: Annotated[int, Field(ge=0)] = 240
    max_trades_per_day: Annotated[int, Field(ge=1)] = 20
    daily_loss_limit_pct: PositiveFraction = Decimal("0.05")
    max_drawdown_pct: PositiveFraction = Decimal("0.25")
    max_consecutive_stops: Annotated[int, Field(ge=1)] = 4
    default_stop_pct: PositiveFraction = Decimal("0.02")
    # Futures: the stop must sit at least this fraction of the entry price inside the liquidation price.
    liquidation_buffer: PositiveFraction = Decimal("0.01")
    timezone: str = "UTC"
    trailing: TrailingConfig = TrailingConfig()
    dca: DcaConfig = DcaConfig()  # adds are capped by max_position_pct and max_exposure_pct

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {v!r} (e.g. UTC, Australia/Sydney)") from exc
        return v


class StrategyEntry(Section):
    """One enabled strategy: registered name, its parameters, the pairs and timeframe it trades."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    pairs: tuple[str, ...] | None = None  # None: the exchange section's pairs
    timeframe: str | None = None
    market: Literal["spot", "swap"] = "spot"  # swap: the pair's linear (USDT-margined) perpetual
    allow_short: bool = False  # enter shorts on the strategy's short signals (swap only)
    leverage: Annotated[int, Field(ge=1, le=125)] = 1  # swap only; checked against the venue's limit
    margin_mode: Literal["isolated", "cross"] = "isolated"
    venue: str | None = None  # the [[venues]] account it trades on; None: the first (or [exchange])

    _known_timeframe = field_validator("timeframe")(_timeframe)

    @model_validator(mode="after")
    def _spot_is_long_only(self) -> StrategyEntry:
        # Spot cannot be sold short or bought on margin here: say so at start-up, not at the first trade.
        if self.market == "spot" and self.allow_short:
            raise ValueError(f"{self.name}: allow_short needs market = \"swap\" (spot cannot be shorted)")
        if self.market == "spot" and self.leverage != 1:
            raise ValueError(f"{self.name}: leverage {self.leverage} needs market = \"swap\" (spot is 1x)")
        return self


class TelegramUser(Section):
    """An allow-listed chat or user id with a role."""

    id: int
    role: Literal["admin", "trader", "viewer"] = "viewer"


class TelegramConfig(Section):
    """Bot token, allow-list with roles, API base URL (tests and self-hosted Bot API servers)."""

    token: SecretStr | None = None
    allowed_chats: Annotated[tuple[TelegramUser, ...], NoDecode] = ()
    api_base_url: str = "https://api.telegram.org/bot"
    admin_totp_secret: SecretStr | None = None
    theme: Literal["light", "dark"] = "dark"

    @field_validator("allowed_chats", mode="before")
    @classmethod
    def _parse_compact(cls, v: Any) -> Any:
        # Accept "123:admin,456" from an env var as well as a list of objects.
        if isinstance(v, str) and v.lstrip().startswith("["):
            return json.loads(v)
        if isinstance(v, str):
            users = []
            for part in filter(None, (p.strip() for p in v.split(","))):
                cid, _, role = part.partition(":")
                users.append({"id": int(cid), "role": role or "viewer"})
            return users
        if isinstance(v, int):
            return [{"id": v, "role": "admin"}]
        return v


class SignalSource(Section):
    """A webhook signal source: its shared secret and the strategy name its trades are booked under."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
    secret: SecretStr
    strategy: str = "external"
    pairs: tuple[str, ...] | None = None  # None: the exchange section's pairs


class WebConfig(Section):
    """The web API, dashboard, Telegram Mini App and webhook signal intake (served by the HTTP server)."""

    api_enabled: bool = True
    public_url: str | None = None  # https URL the Mini App button opens (behind a TLS reverse proxy)
    miniapp_max_age_seconds: Annotated[int, Field(ge=10, le=86_400)] = 3600
    signal_sources: tuple[SignalSource, ...] = ()
    signal_max_age_seconds: Annotated[int, Field(ge=5, le=3600)] = 300


class SchedulerConfig(Section):
    """Job timing."""

    candle_close_delay_seconds: Annotated[float, Field(ge=0, le=300)] = 5.0
    monitor_interval_seconds: Annotated[float, Field(gt=0, le=600)] = 10.0
    risk_interval_seconds: Annotated[float, Field(gt=0, le=3600)] = 60.0
    heartbeat_seconds: Annotated[float, Field(gt=0)] = 300.0
    daily_summary_hour: Annotated[int, Field(ge=0, le=23)] = 0
    drift_enabled: bool = True  # the nightly drift report: the account's trades against a backtest
    drift_hour: Annotated[int, Field(ge=0, le=23)] = 1
    misfire_grace_seconds: Annotated[int, Field(ge=1)] = 30
    # Start-up waits for a venue that does not answer: first pause, doubling up to the cap.
    venue_retry_seconds: Annotated[float, Field(gt=0, le=600)] = 1.0
    venue_retry_max_seconds: Annotated[float, Field(gt=0, le=3600)] = 60.0
    # Fault alerts: an episode closes after this long without a fault; at most one alert per interval.
    fault_quiet_seconds: Annotated[float, Field(ge=0)] = 120.0
    fault_alert_interval_seconds: Annotated[float, Field(ge=0)] = 600.0


class BreakerConfig(Section):
    """The per-venue circuit breaker: when venue calls fail, entries pause until probes succeed.

    It opens after ``failures`` unanswered calls in a row, or when at least ``min_calls`` calls in the
    last ``window_seconds`` failed at ``failure_rate`` or more. It stays open ``open_seconds``, then
    half-opens: ``probes_to_close`` answered calls in a row (probed every ``probe_seconds``) close it.
    While open, the protection monitor (outbox exits and stops) retries from ``retry_seconds``,
    doubling up to ``retry_max_seconds``.
    """

    enabled: bool = True
    failures: Annotated[int, Field(ge=1, le=1000)] = 5
    window_seconds: Annotated[float, Field(gt=0, le=86_400)] = 120.0
    min_calls: Annotated[int, Field(ge=1, le=10_000)] = 10
    failure_rate: PositiveFraction = Decimal("0.5")
    open_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    probe_seconds: Annotated[float, Field(gt=0, le=3600)] = 10.0
    probes_to_close: Annotated[int, Field(ge=1, le=100)] = 2
    retry_seconds: Annotated[float, Field(gt=0, le=3600)] = 5.0
    retry_max_seconds: Annotated[float, Field(gt=0, le=3600)] = 120.0

    @model_validator(mode="after")
    def _consistent(self) -> BreakerConfig:
        if self.retry_max_seconds < self.retry_seconds:
            raise ValueError(f"retry_max_seconds ({self.retry_max_seconds:g}) must be at least "
                             f"retry_seconds ({self.retry_seconds:g})")
        return self


class BacktestConfig(Section):
    """Backtest defaults."""

    start_balance: Annotated[Decimal, Field(gt=0)] = Decimal(10_000)
    fee: Fraction = Decimal("0.001")
    slippage: Fraction = Decimal(0)


class NotifyConfig(Section):
    """Extra alert channels (apprise URLs) with a minimum severity each."""

    apprise_urls: tuple[SecretStr, ...] = ()
    min_severity: Literal["info", "warning", "error", "critical"] = "warning"
    console: bool = True


class LoggingConfig(Section):
    """Log format and destination."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_format: bool = False
    file: str | None = None
    max_bytes: Annotated[int, Field(gt=0)] = 10_000_000
    backups: Annotated[int, Field(ge=0)] = 5


class PricesConfig(Section):
    """CoinGecko as a second price source: valuation when the exchange has no price, and AUD tax rates.

    ``plan`` picks the base URL and key header (public: no key; demo: api.coingecko.com with
    x-cg-demo-api-key; pro: pro-api.coingecko.com with x-cg-pro-api-key). ``calls_per_minute`` stays
    under the plan's published limit. ``ids`` maps a ticker to a CoinGecko id where tickers are shared
    by several coins.
    """

    coingecko_plan: Literal["public", "demo", "pro"] = "public"
    coingecko_api_key: SecretStr | None = None
    coingecko_base_url: str | None = None  # a proxy or a local server; default from the plan
    calls_per_minute: Annotated[float, Field(gt=0, le=1000)] = 10.0
    timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 15.0
    max_retries: Annotated[int, Field(ge=0, le=10)] = 3
    ids: dict[str, str] = {}
    fetch_aud_rates: bool = True  # /tax and the export fetch missing AUD rates from CoinGecko


class NewsFeed(Section):
    """One RSS/Atom feed: the name shown beside its headlines and its URL."""

    name: str
    url: str


class NewsConfig(Section):
    """Crypto news headlines from RSS/Atom feeds, refreshed by a scheduled job (``/news``)."""

    enabled: bool = True
    feeds: tuple[NewsFeed, ...] = (
        NewsFeed(name="CoinDesk", url="https://www.coindesk.com/arc/outboundfeeds/rss/"),
        NewsFeed(name="Cointelegraph", url="https://cointelegraph.com/rss"),
        NewsFeed(name="Decrypt", url="https://decrypt.co/feed"),
        NewsFeed(name="Bitcoin Magazine", url="https://bitcoinmagazine.com/feed"),
        NewsFeed(name="The Block", url="https://www.theblock.co/rss.xml"),
    )
    refresh_minutes: Annotated[int, Field(ge=5, le=1440)] = 30
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 10.0
    alert_held: bool = False  # alert when a new headline mentions an asset a basket holds


class PortfolioConfig(Section):
    """Baskets (``/portfolio``): extra basket files, price age limits, rebalancing costs and snapshots.

    Assets are priced from the exchange's tickers when listed there, else from CoinGecko. A price older
    than ``stale_seconds`` is shown as STALE everywhere. ``usd_quotes`` are the exchange quote
    currencies counted as USD (stablecoins) when a basket is valued in USD.
    """

    baskets_dir: str | None = None  # *.toml basket files beside the built-in default basket
    stale_seconds: Annotated[int, Field(ge=30, le=604800)] = 900
    refresh_seconds: Annotated[int, Field(ge=10, le=86400)] = 300  # a cached price this young is reused
    usd_quotes: tuple[str, ...] = ("USDT", "USDC")
    snapshot_hour: Annotated[int, Field(ge=0, le=23)] = 0  # daily basket snapshot, UTC hour
    default_fee: Annotated[Decimal, Field(ge=0, lt=1)] = Decimal("0.001")  # assets not on the exchange
    default_min_order: Annotated[Decimal, Field(ge=0)] = Decimal("5")  # quote, assets not on the exchange


class BackupConfig(Section):
    """Scheduled database backups: daily at ``hour`` UTC into ``folder``, the newest ``keep`` kept."""

    enabled: bool = True
    hour: Annotated[int, Field(ge=0, le=23)] = 3
    keep: Annotated[int, Field(ge=1, le=3650)] = 7
    folder: str | None = None  # default: <ops.data_dir>/backups
    encrypt: bool = False  # Fernet with the secrets key; refused at start-up without one


class OpsConfig(Section):
    """Health server and secret store."""

    health_host: str = "127.0.0.1"
    health_port: Annotated[int, Field(ge=0, le=65535)] = 8080
    health_enabled: bool = True
    secrets_key: SecretStr | None = None  # Fernet key(s), comma-separated, newest first
    secrets_key_file: str | None = None
    data_dir: str = "./data"
