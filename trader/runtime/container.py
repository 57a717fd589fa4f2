"""The one composition root: Settings → secrets → store → exchange → strategies → services → Runtime.

Only this module (with ``bot.py`` and the CLI) knows every concrete class. Each component gets its own
config section. Order: logging → single-instance lock on the main store → main store (migrate, secrets
overlay) → mode (live, paper, or replay when asked or when the exchange cannot be reached) → the store
the mode uses (a demo replay gets its own SQLite file unless a database is configured, so it never
mixes with a real account; its lock is taken before it is migrated) → exchange (paper state restored)
→ engine and services → ``Lifecycle`` (not started).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from trader import __version__
from trader.adapters.charts.renderer import MatplotlibChartRenderer
from trader.adapters.news.feeds import HttpFeedReader
from trader.adapters.notify.alert_routing import SwitchableNotifier
from trader.adapters.ops.health import Metrics
from trader.adapters.ops.log_setup import SecretRedactor, configure_logging, secret_values
from trader.adapters.ops.log_tail import LogTail
from trader.adapters.ops.secret_store import load_secrets, overlay_settings
from trader.adapters.store.locks import InstanceLock, acquire_instance_lock
from trader.adapters.store.migrate import upgrade_async
from trader.adapters.store.sql.uow import Database
from trader.config import DatabaseConfig, Settings, masked_dump
from trader.core.domain.candles import CandleFrame, timeframe_ms
from trader.core.domain.enums import Mode
from trader.core.domain.ids import Symbol
from trader.core.domain.market import MarketSpec
from trader.core.errors import ConfigError
from trader.core.strategies.registry import default_registry
from trader.live.alerts import AlertService
from trader.live.engine_handle import LiveEngine, build_pairs, build_strategies
from trader.live.fault_alerts import FaultAlerts
from trader.live.parameters import ParameterBook, stored_overrides
from trader.live.venue_breaker import VenueBreaker, attach_breaker
from trader.live.venue_watch import VenueWatch
from trader.ports.clock import Clock
from trader.ports.exchange import Exchange
from trader.ports.notify import Notifier
from trader.ports.store import UnitOfWorkFactory
from trader.runtime.account_guard import claim_account
from trader.runtime.backups import build_backup_service
from trader.runtime.clock import SimClock, SystemClock
from trader.runtime.costs import cost_notice
from trader.runtime.lifecycle import Closer, Lifecycle, RuntimeParts

# re-exported: the CLI and tests import how a run starts from here
from trader.runtime.mode import REPLAY_DB as REPLAY_DB  # noqa: PLC0414
from trader.runtime.mode import RunMode as RunMode  # noqa: PLC0414
from trader.runtime.mode import RunOptions as RunOptions  # noqa: PLC0414
from trader.runtime.mode import choose_mode as choose_mode  # noqa: PLC0414
from trader.runtime.mode import exchange_reachable as exchange_reachable  # noqa: PLC0414
from trader.runtime.mode import holds_paper_account as holds_paper_account  # noqa: PLC0414
from trader.runtime.mode import replay_settings as replay_settings  # noqa: PLC0414
from trader.runtime.preflight import check_runnable, credential_problems
from trader.runtime.prices import build_price_source, portfolio_service
from trader.runtime.replay import ReplayDriver, build_replay_exchange, load_frames, replay_data
from trader.runtime.venues import (
    AccountBook,
    VenueRun,
    account_exchange,
    build_venues,
    primary_account,
    primary_label,
    primary_settings,
    report_service,
    venue_control,
    venue_queries,
    watched,
)
from trader.services.api import Services
from trader.services.api_tokens import ApiTokenService
from trader.services.aud_rates import AudRateService
from trader.services.audit import AuditService
from trader.services.backtests import StoredBacktestService
from trader.services.charts import RenderedChartService
from trader.services.control import EngineControlService
from trader.services.drift import DriftService, DriftSetup
from trader.services.insights import StoreInsightService
from trader.services.market_data import MarketDataService
from trader.services.miniapp import MiniAppAuth
from trader.services.news import HeldNewsAlerts, NewsService
from trader.services.portfolio import PortfolioService
from trader.services.queries import LiveQueryService, RuntimeSystemService, flatten_config
from trader.services.reports import StoreReportService
from trader.services.signals import SignalIntakeService
from trader.services.web_api import WebServices
from web.api import api_extension

logger = logging.getLogger(__name__)



class Runtime:
    """What ``bot.py`` runs: the services bundle, the lifecycle, and the alert routing."""

    @property
    def banner(self) -> str:
        """Return the start-up line that says what runs: the replay demo, paper, or live (demo account)."""
        venue = f"{self.exchange.name}, {', '.join(self.exchange.pairs)}" + "".join(  # further [[venues]]
            f"; {r.label}: {r.account.exchange.name} {r.account.exchange.mode}"
            f"{' perpetuals' if r.account.market == 'swap' else ''}, {', '.join(r.account.pairs)}"
            for r in self.lifecycle.parts.venues)
        if self.mode == "replay":
            what = ("replay demo: stored candles on a simulated clock with a paper account; no order "
                    "reaches the exchange")
        elif self.mode == "live":
            what = ("live on the venue's demo account (no real money)" if self.exchange.demo
                    else "LIVE trading: real orders with real money")
        else:
            what = "paper trading on the venue's live prices; no order reaches the exchange"
        return f"tradebot {__version__}: {what} ({venue})"

    def __init__(self, services: Services, lifecycle: Lifecycle, notifier: SwitchableNotifier,
                 mode: RunMode, settings: Settings, web: WebServices | None = None) -> None:
        self.services = services
        self.web = web  # what the HTTP server's API serves (None when web.api_enabled is off)
        self.lifecycle = lifecycle
        self.mode = mode
        self.database_url = settings.database.url
        self.telegram = settings.telegram  # with the token from the secret store, when stored there
        self.exchange = settings.exchange
        self._notifier = notifier

    def use_telegram(self, notifier: Notifier) -> None:
        """Route alerts to Telegram as well (called before ``lifecycle.start``)."""
        self._notifier.use_telegram(notifier)

    def retry_alerts(self) -> None:
        """Retry undelivered alerts now instead of after their backoff (Telegram just connected)."""
        self.lifecycle.parts.alerts.retry_now()


async def open_database(config: DatabaseConfig) -> Database:
    """Return the database at ``config.url``, migrated to the newest schema when allowed."""
    if config.auto_upgrade:
        await upgrade_async(config.url)
    return Database.from_config(config)


async def build_runtime(settings: Settings, options: RunOptions | None = None) -> Runtime:
    """Build every adapter and service for ``settings``; the returned lifecycle is not started yet.

    The single-instance lock comes first: a second (perhaps newer) instance must be refused before it
    migrates the schema or reads the secrets under a running one.
    """
    options = options or RunOptions()
    # the same check as `tradebot config check`, of the accounts as they will run (--mode included)
    check_runnable(_with_mode(primary_settings(settings), options.mode))
    redactor = configure_logging(settings.logging, secret_values(settings))
    tail = LogTail()
    tail.install()
    lock: InstanceLock | None = None
    db: Database | None = None
    try:
        lock = await take_lock(settings.database.url)
        db = await open_database(settings.database)
        wall = SystemClock()
        secrets = await load_secrets(settings, db.uow_factory, wall)
        settings = primary_settings(overlay_settings(settings, secrets) if secrets else settings)
        redactor.add(*secrets.values())
        settings = _with_mode(settings, options.mode)
        missing = credential_problems(settings)  # the keys may live in the secret store: checked now
        if missing:
            raise ConfigError(missing)
        main_uow = db.uow_factory
        mode = await choose_mode(settings, options, holds_account=lambda: holds_paper_account(main_uow))
        asked = options.replay or settings.exchange.replay
        replayed = replay_settings(settings, fallback=not asked) if mode == "replay" else settings
        if replayed.database.url != settings.database.url:
            await db.dispose()
            db = None
            if lock is not None:
                await lock.release()
                lock = None
            lock = await take_lock(replayed.database.url)
            db = await open_database(replayed.database)
        return await _assemble(replayed, options, mode, db, lock, redactor, tail)
    except BaseException:
        if db is not None:
            await db.dispose()
        if lock is not None:
            await lock.release()
        tail.remove()
        raise


def _with_mode(settings: Settings, mode: str | None) -> Settings:
    """Return ``settings`` with the primary account in ``mode`` (``tradebot run --mode``), if given."""
    if mode is None:
        return settings
    return settings.model_copy(update={"exchange": settings.exchange.model_copy(update={"mode": mode})})


async def take_lock(url: str) -> InstanceLock | None:
    """Return the single-instance lock of the database at ``url`` (None for in-memory SQLite)."""
    return None if ":memory:" in url else await acquire_instance_lock(url)


async def _assemble(settings: Settings, options: RunOptions, mode: RunMode, db: Database,
                    lock: InstanceLock | None, redactor: SecretRedactor, tail: LogTail) -> Runtime:
    closers: list[Closer] = [_close_tail(tail), db.dispose]
    if lock is not None:
        closers.append(lock.release)
    return await _wire(settings, options, mode, db, redactor, tail, closers)


async def _wire(settings: Settings, options: RunOptions, mode: RunMode, db: Database,
                redactor: SecretRedactor, tail: LogTail, closers: list[Closer]) -> Runtime:
    uow: UnitOfWorkFactory = db.uow_factory
    wall = SystemClock()
    notifier = SwitchableNotifier(settings.notify, wall, redact=redactor.redact, console=options.console)
    metrics = Metrics()  # one registry: the engine, the alert outbox and /metrics share it
    demo = mode == "live" and settings.exchange.demo
    clean = _demo_label(redactor.redact) if demo else redactor.redact
    alerts = AlertService(uow, notifier, wall, redact=clean, on_pending=metrics.set_alerts_pending)
    overrides = await _overrides(uow)
    book = ParameterBook(settings.risk, settings.accounts()[0].strategies, default_registry(), overrides)
    market_data = MarketDataService(uow, wall)
    store_exchange = settings.exchange.name
    replay: ReplayDriver | None = None
    venue: VenueWatch | None = None
    breaker: VenueBreaker | None = None
    venues: tuple[VenueRun, ...] = ()
    if mode == "replay":
        exchange, clock, replay = await _replay(settings, options, uow, market_data, book, alerts, metrics)
        engine = replay.engine
    else:
        clock = wall
        if mode == "live":
            await claim_account(uow, settings.exchange, wall)
        venue = VenueWatch(stale_after=_stale_after(settings))
        accounts = AccountBook()  # every account's balances, for the global exposure cap
        exchange = watched(await account_exchange(primary_account(settings), clock, uow), venue, settings,
                           accounts, closers)
        engine = LiveEngine(exchange, uow, clock, settings.exchange, book, alerts,
                            monitor_interval=timedelta(seconds=settings.scheduler.monitor_interval_seconds),
                            metrics=metrics)
        breaker = attach_breaker(primary_label(settings), settings.breaker, alerts, wall, venue, exchange,
                                 engine)
        if breaker is not None:
            await breaker.restore(uow)  # an outage across a restart goes on (no second "venue down")
        venues = await build_venues(settings, clock=wall, notifier=notifier, redact=clean, metrics=metrics,
                                    overrides=overrides, stale_after=_stale_after(settings), closers=closers,
                                    book=accounts)
    reports = _reports(settings, uow, exchange, clock, closers, venues)
    backups = build_backup_service(settings, alerts, wall) if mode != "replay" else None
    faults = FaultAlerts(alerts, quiet_seconds=settings.scheduler.fault_quiet_seconds,
                         min_interval=settings.scheduler.fault_alert_interval_seconds) if venue else None
    drift = _drift(settings, mode, uow, exchange, clock, alerts)
    portfolio = portfolio_service(settings, uow, exchange, wall, closers)
    held_alerts = HeldNewsAlerts(portfolio.held_assets, alerts.publish) if settings.news.alert_held else None
    news = _news(settings, uow, wall, closers, portfolio.catalog.symbols, held_alerts)
    parts = RuntimeParts(
        engine=engine, exchange=exchange, alerts=alerts, reports=reports, market_data=market_data,
        uow_factory=uow, clock=clock, scheduler_config=settings.scheduler, ops=settings.ops,
        timezone=settings.risk.timezone, store_exchange=store_exchange, replay=replay,
        max_candles=options.max_candles, reconcile=engine.reconciler.run,
        monitor=breaker.backoff(engine.monitor.run_once) if breaker else engine.monitor.run_once,
        risk_check=engine.monitor.risk_check, backups=backups,
        drift=lambda: drift.report(alert=True), venue=venue, faults=faults, breaker=breaker, closers=closers,
        venues=venues,
        news=news.refresh if settings.news.enabled and settings.news.feeds else None,
        news_every_seconds=settings.news.refresh_minutes * 60.0,
        portfolio_snapshot=portfolio.snapshot, portfolio_hour=settings.portfolio.snapshot_hour,
    )
    lifecycle = Lifecycle(parts, metrics)
    wiring = _Wiring(settings, mode, uow, exchange, clock, book, engine, lifecycle, redactor, tail)
    services = _services(wiring, reports, drift, news, portfolio)
    web = _web_services(wiring, services) if settings.web.api_enabled else None
    if web is not None:
        lifecycle.use_web(api_extension(web))
    notice = None if mode == "live" else cost_notice(settings.exchange, settings.backtest)
    if notice is not None:
        logger.warning("%s", notice)
    if demo:
        logger.warning("DEMO ACCOUNT: live engine on the %s demo/testnet; no real money is traded",
                       settings.exchange.name)
    logger.info("runtime built: mode %s, exchange %s, database %s",
                "live (demo account)" if demo else "replay demo" if mode == "replay" else mode,
                settings.exchange.name,
                redactor.redact(settings.database.url))
    return Runtime(services, lifecycle, notifier, mode, settings, web)


def _stale_after(settings: Settings) -> float:
    """Return after how long without an answer the venue counts as unknown: three of the slowest
    regular venue calls (the equity job's balances, the monitor), at least a minute."""
    cfg = settings.scheduler
    return max(60.0, 3 * cfg.risk_interval_seconds, 3 * cfg.monitor_interval_seconds)


@dataclass(frozen=True, slots=True)
class _Wiring:
    settings: Settings
    mode: RunMode
    uow: UnitOfWorkFactory
    exchange: Exchange
    clock: Clock
    book: ParameterBook
    engine: LiveEngine
    lifecycle: Lifecycle
    redactor: SecretRedactor
    tail: LogTail


def _demo_label(redact: Callable[[str], str]) -> Callable[[str], str]:
    """Return ``redact`` that also marks every alert text of a demo account."""
    def clean(text: str) -> str:
        return "[demo] " + redact(text)
    return clean


def _close_tail(tail: LogTail) -> Closer:
    async def close() -> None:
        tail.remove()
    return close


async def _overrides(uow: UnitOfWorkFactory) -> dict[str, str]:
    async with uow() as unit:
        return await stored_overrides(unit)


async def _replay(settings: Settings, options: RunOptions, uow: UnitOfWorkFactory,
                  market_data: MarketDataService, book: ParameterBook,
                  alerts: AlertService, metrics: Metrics) -> tuple[Exchange, Clock, ReplayDriver]:
    if settings.venues:
        raise ConfigError(["venues: the replay demo runs one venue; run several accounts in paper or "
                           "live mode, or remove [[venues]] for the demo"])
    config = settings.exchange
    entries = {e.name: e for e in book.strategies}
    pairs = sorted({p for e in entries.values() for p in (e.pairs or config.pairs)} or set(config.pairs))
    timeframes = {name: e.timeframe or config.timeframe for name, e in entries.items()}
    feed = min([*timeframes.values(), config.timeframe], key=timeframe_ms)  # the finest; coarser resample
    frames = await load_frames(uow, market_data, config.name, pairs, feed)
    built = build_strategies(book)
    strategies = list(built.values())
    shorts = any(e.allow_short for e in entries.values())
    pair_setups = build_pairs(book)
    data = await replay_data(uow, frames, feed, strategies, shorts=shorts, pairs=list(pair_setups.values()))
    clock = SimClock(datetime.fromtimestamp(data.start_ms / 1000, tz=UTC))
    needs = {name: s.required_history for name, s in built.items()}
    needs |= {name: p.required_history for name, p in pair_setups.items()}
    warmup = max((n * timeframe_ms(timeframes[name]) // timeframe_ms(feed) for name, n in needs.items()),
                 default=0) + 10
    paper = await build_replay_exchange(config, uow, clock, data, warmup, swap=settings.market_type == "swap")
    engine = LiveEngine(paper, uow, clock, config, book, alerts, live_prices=False, metrics=metrics)
    speed = options.speed or config.replay_speed
    driver = ReplayDriver(paper, clock, data, engine, uow, speed=speed, monitor=engine.monitor.run_once)
    logger.info("replay %s at %s (x%g: one %s candle every %.2fs)", "resumes" if data.resumed else "starts",
                clock.now(), speed, feed, driver.seconds_per_candle)
    return paper, clock, driver


def _reports(settings: Settings, uow: UnitOfWorkFactory, exchange: Exchange, clock: Clock,
             closers: list[Closer], venues: Sequence[VenueRun] = ()) -> StoreReportService:
    rates = None
    if settings.prices.fetch_aud_rates:  # /tax fetches the AUD rates the records need
        source = build_price_source(settings.prices)
        closers.append(source.close)
        rates = AudRateService(uow, source)
    return report_service(settings, uow, exchange, clock, rates, venues)


def _web_services(w: _Wiring, services: Services) -> WebServices:
    wall = SystemClock()
    audit = AuditService(w.uow, wall, redact=w.redactor.redact)
    insights = StoreInsightService(w.uow, w.clock, audit, quote=w.settings.exchange.quote_currency,
                                   store_exchange=w.settings.exchange.name, jobs=w.lifecycle.jobs)
    signals = SignalIntakeService(w.settings.web.signal_sources, w.settings.exchange.pairs, w.engine, w.uow,
                                  w.clock, audit, max_age_seconds=w.settings.web.signal_max_age_seconds)
    miniapp = MiniAppAuth(w.settings.telegram, wall, w.settings.web.miniapp_max_age_seconds)
    return WebServices(core=services, tokens=ApiTokenService(w.uow, wall, audit), insights=insights,
                       signals=signals, miniapp=miniapp, public_url=w.settings.web.public_url)


def _drift(settings: Settings, mode: RunMode, uow: UnitOfWorkFactory, exchange: Exchange, clock: Clock,
           alerts: AlertService) -> DriftService:
    async def markets(frames: Mapping[Symbol, CandleFrame]) -> Mapping[Symbol, MarketSpec]:
        known = await exchange.markets()  # the venue's (or the paper/replay account's) own rounding
        return {s: known[s] for s in frames}

    setup = DriftSetup(settings.exchange, settings.risk, tuple(settings.strategies), default_registry(),
                       start_balance=None if mode == "live" else settings.exchange.paper_start_balance)
    return DriftService(uow, clock, setup, markets=markets, wake=alerts.wake)


def _news(settings: Settings, uow: UnitOfWorkFactory, clock: Clock, closers: list[Closer],
          basket_assets: tuple[str, ...], held_alerts: HeldNewsAlerts | None) -> NewsService:
    reader = HttpFeedReader(settings.news.timeout_seconds)
    closers.append(reader.close)
    bases = tuple(pair.split("/")[0] for pair in settings.exchange.pairs)
    return NewsService(uow, reader, clock, feeds=tuple((f.name, f.url) for f in settings.news.feeds),
                       tickers=(*bases, settings.exchange.quote_currency, *basket_assets), on_new=held_alerts)


def _services(w: _Wiring, reports: StoreReportService, drift: DriftService, news: NewsService,
              portfolio: PortfolioService) -> Services:
    wall = SystemClock()
    settings = w.settings
    live = Mode.DEMO if settings.exchange.demo else Mode.LIVE
    shown = live if w.mode == "live" else Mode.REPLAY if w.mode == "replay" else Mode.PAPER
    audit = AuditService(w.uow, wall, redact=w.redactor.redact)
    primary = LiveQueryService(w.uow, w.exchange, w.clock, mode=shown, quote=settings.exchange.quote_currency,
                               book=w.book, facts=w.lifecycle.facts)
    parts = w.lifecycle.parts
    queries = venue_queries(settings, primary, parts.venues, w.lifecycle.facts, parts.breaker)
    renderer = MatplotlibChartRenderer()
    theme = settings.telegram.theme
    own = EngineControlService(w.engine, w.book, primary, audit, w.uow, w.exchange, w.clock)
    control = venue_control(settings, own, parts.venues, queries, audit)
    portfolio.use_control(control)  # basket buys go through /buy's path: engine, risk limits, audit
    return Services(
        queries=queries,
        reports=reports,
        control=control,
        charts=RenderedChartService(w.uow, w.exchange, renderer, w.clock,
                                    store_exchange=settings.exchange.name, theme=theme,
                                    start_balance=settings.exchange.paper_start_balance),
        backtests=StoredBacktestService(w.uow, renderer, wall, config=settings.backtest, book=w.book,
                                        store_exchange=settings.exchange.name, theme=theme),
        system=RuntimeSystemService(exchange_name=settings.exchange.name, mode=shown,
                                    config_lines=flatten_config(masked_dump(settings)), log_tail=w.tail.tail,
                                    audit_tail=audit.recent),
        audit=audit,
        drift=drift,
        news=news,
        portfolio=portfolio,
    )
