"""The second and further venue accounts of a service trading several (``[[venues]]``).

The container builds the primary account as before (it is the whole service with one venue); each
further account gets its own store (a database of its own: engine memory, risk state, paper account,
orders and positions never mix between accounts, and a live database still holds one account), its own
exchange (spot or, ``market = "swap"``, perpetuals, paper or live: built by ``account_exchange`` as the
primary's is), ``VenueWatch``, circuit breaker, ``LiveEngine`` and start-up reconciliation. Alerts, audit,
API tokens and secrets stay in the main store. The lifecycle starts each account in the background
(one that does not answer is waited for with backoff while the others trade) and schedules its jobs
under ids carrying the account's name.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import PurePosixPath

from trader.adapters.exchange import build_exchange
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.adapters.ops.health import CheckResult, Metrics
from trader.adapters.store.migrate import upgrade_async
from trader.adapters.store.sql.uow import Database
from trader.config import Account, DatabaseConfig, ExchangeConfig, Settings
from trader.core.domain.account import AccountSnapshot
from trader.core.domain.candles import CandleFrame
from trader.core.domain.enums import Mode
from trader.core.domain.ids import Symbol
from trader.core.domain.money import ZERO
from trader.core.strategies.registry import default_registry
from trader.live.alerts import AlertService
from trader.live.engine_handle import LiveEngine, perpetual_terms
from trader.live.parameters import ParameterBook, SettingChange
from trader.live.venue_breaker import VenueBreaker, attach_breaker
from trader.live.venue_watch import VenueWatch, WatchedExchange
from trader.ports.clock import Clock
from trader.ports.exchange import Exchange
from trader.ports.notify import Notifier
from trader.ports.store import EquitySnapshot, UnitOfWorkFactory
from trader.runtime.account_guard import claim_account
from trader.runtime.scheduler import TickJob, TradingScheduler
from trader.runtime.startup import Backoff, VenueStartup
from trader.services.api import ControlService, QueryService
from trader.services.aud_rates import AudRateService
from trader.services.audit import AuditService
from trader.services.control import EngineControlService
from trader.services.queries import LiveQueryService, RunFacts
from trader.services.reports import StoreReportService
from trader.services.venue_control import MultiVenueControlService, VenueControl
from trader.services.venue_queries import MultiVenueQueryService, VenueQueries
from trader.services.venue_reports import MultiVenueReportService, VenueReports

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]
Guard = Callable[[str, Job, str], Job]  # Lifecycle._guarded: (what, job, job id) -> logged, alerted job
Closer = Callable[[], Awaitable[None]]


def venue_database_url(main_url: str, account: Account) -> str:
    """Return the store of a further account: its ``database_url``, else a SQLite file beside the main
    one (``trader.db`` -> ``trader.<name>.db``); an in-memory main store gives an in-memory one."""
    if account.database_url is not None:
        return account.database_url
    prefix, _, path = main_url.partition(":///")
    if ":memory:" in path or not path:
        return main_url
    file = PurePosixPath(path)
    name = f"{file.stem}.{account.label}{file.suffix or '.db'}"
    return f"{prefix}:///{file.with_name(name)}"


class AccountBook:
    """Each venue account's last balances: an account's snapshot gets the others' equity and exposure
    (same quote only), so risk's global exposure cap counts every account without asking the others'
    venues anything (their figures are as fresh as their last balance read: a tick, the equity job)."""

    def __init__(self) -> None:
        self._last: dict[str, AccountSnapshot] = {}

    def seen(self, label: str, snapshot: AccountSnapshot) -> AccountSnapshot:
        """Record ``label``'s balances and return them with the other accounts' totals."""
        self._last[label] = snapshot
        others = [s for name, s in self._last.items() if name != label and s.quote == snapshot.quote]
        return replace(snapshot, others_equity=sum((s.equity for s in others), ZERO),
                       others_exposure=sum((s.exposure for s in others), ZERO))


class BookedExchange(WatchedExchange):
    """A watched venue whose balances also carry the service's other accounts (``AccountBook``) and
    whose candles may come from another venue (``data_venue``: e.g. history from Nobitex)."""

    def __init__(self, inner: Exchange, watch: VenueWatch, book: AccountBook, label: str,
                 candles_from: Exchange | None = None) -> None:
        super().__init__(inner, watch)
        self._book = book
        self._label = label
        self._candles_from = candles_from

    async def balances(self) -> AccountSnapshot:
        """Return the account's balances with the other accounts' equity and exposure."""
        return self._book.seen(self._label, await super().balances())

    async def candles(self, symbol: Symbol, timeframe: str, since: datetime | None = None,
                      limit: int | None = None) -> CandleFrame:
        """Return candles from the data venue when one is set (its failures are not the trading venue's)."""
        if self._candles_from is None:
            return await super().candles(symbol, timeframe, since, limit)
        return await self._candles_from.candles(symbol, timeframe, since, limit)


def data_source(account: Account, closers: list[Closer]) -> Exchange | None:
    """Return the account's data venue (public market data only), closed with the runtime; None if unset."""
    if account.data_venue is None:
        return None
    public = {"name": account.data_venue, "api_base_url": account.data_base_url, "api_key": None,
              "api_secret": None, "api_password": None}
    config = account.exchange.model_copy(update=public)
    source = CcxtExchange(config, public_only=True)
    closers.append(source.close)
    return source


async def account_exchange(account: Account, clock: Clock, uow: UnitOfWorkFactory) -> Exchange:
    """Return an account's exchange, the primary's and each further account's alike: its spot markets, or
    (``market = "swap"``) its linear perpetuals, set live to its swap strategies' leverage and margin mode
    before the first entry; positions and the futures wallet are what its reconciliation reads."""
    return await build_exchange(account.exchange, clock, uow_factory=uow, swap=account.market == "swap",
                                perpetuals=perpetual_terms(account.strategies, account.exchange.pairs))


def watched(inner: Exchange, watch: VenueWatch, settings: Settings, book: AccountBook,
            closers: list[Closer]) -> WatchedExchange:
    """Return the primary's watched exchange, booked with the others when there are several accounts."""
    if not settings.venues:
        return WatchedExchange(inner, watch)
    primary = settings.accounts()[0]
    return BookedExchange(inner, watch, book, primary.label, data_source(primary, closers))


@dataclass
class VenueRun:
    """One further venue account, built and ready to start: its engine, store, exchange and breaker."""

    account: Account
    engine: LiveEngine
    exchange: WatchedExchange
    uow: UnitOfWorkFactory
    watch: VenueWatch
    breaker: VenueBreaker | None
    clock: Clock
    book: ParameterBook
    alerts: AlertService  # the account's own outbox (in its store, written with the engine's state)
    ready: bool = False  # reconciled with the venue: its jobs run from now on
    closers: list[Closer] = field(default_factory=list)

    @property
    def label(self) -> str:
        """Return the account's name."""
        return self.account.label

    async def start_up(self, retry_seconds: float, retry_max_seconds: float) -> None:
        """Wait until the venue answers a signed call, then reconcile; the account's jobs run after."""
        async def work() -> None:
            await self.exchange.balances()
            await self.engine.reconciler.run()
        startup = VenueStartup(work, self.watch, Backoff(retry_seconds, retry_max_seconds))
        if not await startup.open():
            await startup.wait()
        self.ready = True
        logger.info("venue account %s (%s) reconciled: its jobs run", self.label, self.account.exchange.name)

    def schedule(self, scheduler: TradingScheduler, guard: Guard, monitor_seconds: float,
                 risk_seconds: float) -> None:
        """Add the account's ticks, protection monitor, equity job and breaker probes to ``scheduler``."""
        for plan in self.engine.plans():
            async def tick(plan_strategy: str = plan.strategy, symbol: str = plan.symbol,
                           timeframe: str = plan.timeframe) -> None:
                await self.engine.trading.run_tick(plan_strategy, symbol, timeframe)
            tick_id = TickJob(plan.strategy, plan.symbol, plan.timeframe, tick).job_id
            what = f"tick {plan.strategy} {plan.symbol} {plan.timeframe} on {self.label}"
            scheduler.add_tick(TickJob(plan.strategy, plan.symbol, plan.timeframe,
                                       guard(what, self._gated(tick), tick_id)))
        monitor: Callable[[], Awaitable[object]] = self.engine.monitor.run_once
        if self.breaker is not None:
            monitor = self.breaker.backoff(monitor)
        jobs: tuple[tuple[str, Callable[[], Awaitable[object]], float], ...] = (
            ("monitor", monitor, monitor_seconds), ("equity", self.equity, risk_seconds))
        for kind, job, seconds in jobs:
            job_id = f"{kind}|{self.label}"
            scheduler.add_interval(job_id, guard(f"{kind} on {self.label}", self._gated(job), job_id),
                                   seconds)
        if self.breaker is not None:
            probe = self.breaker.run
            scheduler.add_interval(f"breaker|{self.label}",
                                   guard(f"venue breaker {self.label}", probe, f"breaker|{self.label}"),
                                   self.breaker.config.probe_seconds)

    async def readiness(self) -> CheckResult:
        """Return the account's venue as /ready shows it (an optional check: one venue down degrades)."""
        if self.breaker is not None and not self.breaker.state.allows_entries:
            state = self.breaker.state.state.value
            return CheckResult(False, f"breaker {state}: {self.breaker.entry_gate()}")
        if not self.ready:
            return CheckResult(False, self.watch.state().waiting or "reconciling with the venue")
        ok, detail = self.watch.readiness()
        return CheckResult(ok, detail)

    def follow(self, change: SettingChange) -> None:
        """Apply a risk setting the primary account stored to this account's running engine as well."""
        self.book.apply(change)
        self.engine.apply_parameters()

    async def equity(self) -> None:
        """Run the risk guards on the account's equity and store a snapshot in its own store."""
        await self.engine.monitor.risk_check()
        account = await self.exchange.balances()
        async with self.uow() as uow:
            await uow.equity.add(EquitySnapshot.from_account(account, self.clock.now()))
            await uow.commit()

    def _gated(self, job: Callable[[], Awaitable[object]]) -> Job:
        """Return ``job`` run only once the account reconciled; a call the breaker counts is not a failure."""
        async def run() -> None:
            if not self.ready:
                return
            try:
                await job()
            except Exception as exc:
                if self.breaker is not None and self.breaker.absorbs(exc):
                    logger.warning("venue %s: call unanswered (its breaker counts it): %s", self.label, exc)
                    return
                raise
        return run

    async def close(self) -> None:
        """Close the exchange and the account's store."""
        try:
            await self.exchange.close()
        finally:
            for closer in reversed(self.closers):
                await closer()


async def build_venue(account: Account, settings: Settings, *, clock: Clock, notifier: Notifier,  # noqa: PLR0913
                      redact: Callable[[str], str], metrics: Metrics, overrides: dict[str, str],
                      stale_after: float, book: AccountBook) -> VenueRun:
    """Build a further venue account: its store (migrated), exchange, engine and breaker."""
    url = venue_database_url(settings.database.url, account)
    config = DatabaseConfig(url=url, echo=settings.database.echo, auto_upgrade=settings.database.auto_upgrade)
    if config.auto_upgrade:
        await upgrade_async(url)
    db = Database.from_config(config)
    try:
        uow: UnitOfWorkFactory = db.uow_factory
        label = account.label

        def named(text: str) -> str:  # every alert of the account says which account it is about
            return f"[{label}] {redact(text)}"
        alerts = AlertService(uow, notifier, clock, redact=named)
        if account.exchange.mode == "live":
            await claim_account(uow, account.exchange, clock)
        watch = VenueWatch(stale_after=stale_after)
        raw = await account_exchange(account, clock, uow)
        closers: list[Closer] = [db.dispose]
        exchange = BookedExchange(raw, watch, book, label, data_source(account, closers))
        params = ParameterBook(settings.risk, account.strategies, default_registry(), overrides)
        engine = LiveEngine(exchange, uow, clock, account.exchange, params, alerts,
                            monitor_interval=timedelta(seconds=settings.scheduler.monitor_interval_seconds),
                            metrics=metrics)
        breaker = attach_breaker(account.label, settings.breaker, alerts, clock, watch, exchange, engine)
        if breaker is not None:
            await breaker.restore(uow)  # an outage across a restart goes on (no second "venue down")
    except BaseException:
        await db.dispose()
        raise
    logger.info("venue account %s: %s %s, store %s", account.label, account.exchange.name,
                account.exchange.mode, url.rsplit("/", 1)[-1])
    return VenueRun(account, engine, exchange, uow, watch, breaker, clock, params, alerts, closers=closers)


def primary_settings(settings: Settings) -> Settings:
    """Return ``settings`` with ``[exchange]`` replaced by the primary account's effective settings (the
    single-venue code paths run on it) and every further account's inherited fields written out, so
    ``settings.accounts()`` answers the same afterwards. Without ``[[venues]]``: ``settings`` itself."""
    if not settings.venues:
        return settings
    accounts = settings.accounts()
    shared = [f for f in type(settings.venues[0]).model_fields if f in type(settings.exchange).model_fields
              and f != "name"]
    venues = tuple(v.model_copy(update={f: getattr(a.exchange, f) for f in shared})
                   for v, a in zip(settings.venues, accounts, strict=True))
    return settings.model_copy(update={"exchange": accounts[0].exchange, "venues": venues})


async def build_venues(settings: Settings, *, clock: Clock, notifier: Notifier,  # noqa: PLR0913
                       redact: Callable[[str], str], metrics: Metrics, overrides: dict[str, str],
                       stale_after: float, closers: list[Closer], book: AccountBook) -> tuple[VenueRun, ...]:
    """Build every further account of ``settings`` (none without ``[[venues]]``), closed with the runtime."""
    runs: list[VenueRun] = []
    for account in settings.accounts()[1:]:
        run = await build_venue(account, settings, clock=clock, notifier=notifier, redact=redact,
                                metrics=metrics, overrides=overrides, stale_after=stale_after, book=book)
        closers.append(run.close)
        runs.append(run)
    return tuple(runs)


def primary_account(settings: Settings) -> Account:
    """Return the primary account as it runs: its strategies and market, on ``settings.exchange`` (the
    primary's effective settings after ``primary_settings``, with a ``--mode`` override applied)."""
    return replace(settings.accounts()[0], exchange=settings.exchange)


def primary_label(settings: Settings) -> str:
    """Return the primary account's name: its ``[[venues]]`` name, else the exchange id (one venue)."""
    return settings.venues[0].name if settings.venues else settings.exchange.name


def account_mode(config: ExchangeConfig) -> Mode:
    """Return how an account trades, as shown: live, demo (live on a testnet) or paper."""
    if config.mode == "live":
        return Mode.DEMO if config.demo else Mode.LIVE
    return Mode.PAPER


def venue_queries(settings: Settings, primary: LiveQueryService, runs: Sequence[VenueRun],
                  facts: Callable[[], RunFacts], primary_breaker: VenueBreaker | None) -> QueryService:
    """Return the query service: ``primary`` alone for one venue, else one over every account."""
    if not runs:
        return primary

    def run_facts(run: VenueRun) -> Callable[[], RunFacts]:
        def current() -> RunFacts:
            waiting = run.watch.state().waiting
            base = facts()
            return replace(base, breaker=run.breaker.state if run.breaker is not None else None,
                           problems=(waiting,) if waiting else (),
                           last_tick_at=run.engine.trading.last_tick_at)
        return current

    label = primary_label(settings)
    accounts = [VenueQueries(label, settings.exchange.name, primary, _gate(primary_breaker))]
    for run in runs:
        queries = LiveQueryService(run.uow, run.exchange, run.clock, mode=account_mode(run.account.exchange),
                                   quote=run.account.exchange.quote_currency, book=run.book,
                                   facts=run_facts(run))
        accounts.append(VenueQueries(run.label, run.account.exchange.name, queries, _gate(run.breaker)))
    return MultiVenueQueryService(accounts)


def _gate(breaker: VenueBreaker | None) -> Callable[[], str]:
    """Return why the account's entries pause (its breaker's refusal), or never for no breaker."""
    return breaker.entry_gate if breaker is not None else lambda: ""



def venue_control(settings: Settings, primary: EngineControlService, runs: Sequence[VenueRun],
                  queries: QueryService, audit: AuditService) -> ControlService:
    """Return the control service: ``primary`` alone for one venue, else a router over every account."""
    if not runs:
        return primary
    accounts = [VenueControl(primary_label(settings), settings.accounts()[0].pairs, primary)]
    for run in runs:
        own = run_queries(run, queries)
        control = EngineControlService(run.engine, run.book, own, audit, run.uow, run.exchange, run.clock)
        accounts.append(VenueControl(run.label, run.account.pairs, control, run.follow))
    return MultiVenueControlService(accounts)


def run_queries(run: VenueRun, queries: QueryService) -> LiveQueryService:
    """Return the account's own query service inside the aggregate ``queries``."""
    assert isinstance(queries, MultiVenueQueryService)  # several accounts: built by venue_queries
    return queries.account(run.label)


def report_service(settings: Settings, uow: UnitOfWorkFactory, exchange: Exchange, clock: Clock,
                   rates: AudRateService | None, runs: Sequence[VenueRun]) -> StoreReportService:
    """Return the report service: the primary's store alone for one venue, else every account's."""
    config = settings.exchange
    primary = StoreReportService(uow, exchange, clock, quote=config.quote_currency,
                                 start_balance=config.paper_start_balance, rates=rates)
    if not runs:
        return primary
    accounts = [VenueReports(primary_label(settings), config.quote_currency, primary)]
    accounts += [VenueReports(run.label, run.account.exchange.quote_currency,
                              StoreReportService(run.uow, run.exchange, run.clock,
                                                 quote=run.account.exchange.quote_currency,
                                                 start_balance=run.account.exchange.paper_start_balance))
                 for run in runs]
    return MultiVenueReportService(accounts, uow_factory=uow, exchange=exchange, clock=clock,
                                   start_balance=config.paper_start_balance, rates=rates)
