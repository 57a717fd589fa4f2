"""Lifecycle: start the engine's moving parts in order and stop them in reverse, gracefully.

The container has already migrated the store, taken the single-instance lock and restored the paper
account (those must precede building the services). ``start`` then: the health server with its
readiness checks → the alert dispatcher → reconcile with the venue → the replay driver (demo) or the
scheduler (a tick job per strategy/pair/timeframe, the protection monitor, equity snapshots,
heartbeat, daily summary, candle refresh). A venue that does not answer at start-up is waited for in
the background with capped backoff (``runtime/startup.py``), shown on /ready; the service never exits
for it. ``stop`` undoes it in reverse, delivers what it can of the outbox, then closes the exchange,
releases the lock and the database. ``bot.py`` calls ``start``/``stop`` around the Telegram bot, which
connects on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from trader.adapters.ops.health import CheckResult, HealthServer, Metrics, ReadinessCheck, database_check
from trader.config import OpsConfig, SchedulerConfig
from trader.core.domain.alerts import Alert, Severity
from trader.core.domain.candles import datetime_to_ms, ms_to_datetime, timeframe_ms
from trader.core.domain.ids import Symbol
from trader.core.errors import DataError, InvariantViolation
from trader.core.formatting import money
from trader.live.alerts import AlertService
from trader.live.decision_log import log_tick
from trader.live.engine_handle import LiveEngine, TickPlan
from trader.live.fault_alerts import FaultAlerts, FaultChecks
from trader.live.venue_breaker import VenueBreaker
from trader.live.venue_watch import VenueWatch
from trader.ports.clock import Clock
from trader.ports.exchange import Exchange
from trader.ports.store import EquitySnapshot, UnitOfWorkFactory
from trader.runtime.jobs import JobLedger
from trader.runtime.replay import ReplayDriver
from trader.runtime.scheduler import TickJob, TradingScheduler
from trader.runtime.startup import Backoff, VenueStartup
from trader.runtime.venues import VenueRun
from trader.services.api import ReportService
from trader.services.backups import BackupService
from trader.services.dto import JobView
from trader.services.market_data import MarketDataService
from trader.services.queries import RunFacts
from web.app import Extension

logger = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[object]]
Closer = Callable[[], Awaitable[None]]
CANDLE_REFRESH_SECONDS = 3600.0
STOP_FLUSH_SECONDS = 5.0
NOT_CONFIGURED = "not configured"


async def _nothing_to_check() -> bool:
    return True


@dataclass
class RuntimeParts:
    """Everything the lifecycle starts, runs and stops; built by ``runtime.container``."""

    engine: LiveEngine
    exchange: Exchange
    alerts: AlertService
    reports: ReportService
    market_data: MarketDataService
    uow_factory: UnitOfWorkFactory
    clock: Clock
    scheduler_config: SchedulerConfig
    ops: OpsConfig
    timezone: str
    store_exchange: str
    replay: ReplayDriver | None = None
    max_candles: int | None = None
    reconcile: Hook | None = None
    monitor: Hook | None = None
    risk_check: Hook | None = None
    backups: BackupService | None = None  # scheduled with the ticks; none in a replay demo
    drift: Hook | None = None  # the nightly drift report (queues its own alert on a logic difference)
    news: Hook | None = None  # refresh the news feeds (a failing feed is skipped inside)
    news_every_seconds: float = 1800.0
    portfolio_snapshot: Hook | None = None  # daily value of every basket with holdings
    portfolio_hour: int = 0  # UTC hour of the basket snapshot
    venue: VenueWatch | None = None  # what the engine's venue calls tell (None: replay, simulated venue)
    faults: FaultAlerts | None = None  # job failures, venue streaks, stuck intents: one alert per episode
    breaker: VenueBreaker | None = None  # venue outages: entries pause, one alert each way
    venues: tuple[VenueRun, ...] = ()  # further venue accounts ([[venues]]): started, scheduled, closed
    closers: list[Closer] = field(default_factory=list)  # run last, in reverse (lock, database)


class Lifecycle:
    """Start and stop the runtime; ``finished`` is set when a replay ran out or the engine must stop."""

    def __init__(self, parts: RuntimeParts, metrics: Metrics | None = None) -> None:
        self.parts = parts
        self.metrics = metrics or Metrics()  # the container shares it with the engine and the alerts
        # Telegram is reported even when absent; bot.py replaces this with its connection check.
        self._extra_checks: dict[str, tuple[ReadinessCheck, str, bool]] = {
            "telegram": (_nothing_to_check, NOT_CONFIGURED, True)}
        self.finished = asyncio.Event()
        self.fatal: BaseException | None = None
        self._scheduler: TradingScheduler | None = None
        self._health: HealthServer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._started = time.monotonic()
        self._running = False
        self._web: tuple[Extension, ...] = ()
        self._ledger = JobLedger(parts.clock)

    def use_web(self, *extensions: Extension) -> None:
        """Serve ``extensions`` (the web API) on the HTTP server next to /health (before ``start``)."""
        self._web = extensions

    def jobs(self) -> tuple[JobView, ...]:
        """Return the scheduled jobs with their last and next runs (none while replaying or stopped)."""
        if self._scheduler is None:
            return ()
        views = []
        for job_id, next_at in self._scheduler.jobs():
            run = self._ledger.last(job_id)
            views.append(JobView(job_id, next_at, run.started_at if run else None,
                                 run.duration_seconds if run else None, run.error if run else None,
                                 self._ledger.running_since(job_id), self._job_detail(job_id)))
        return tuple(views)

    def add_check(self, name: str, check: ReadinessCheck, note: str = "", *, optional: bool = False) -> None:
        """Add (or replace) a readiness check served on /ready, e.g. "telegram" from ``bot.py``.

        An ``optional`` check that fails shows the service as degraded, not unready.
        """
        self._extra_checks[name] = (check, note, optional)
        if self._health is not None:
            self._health.add_check(name, check, note, optional=optional)

    # ── facts for /health ──────────────────────────────────────────────────────────────────
    def facts(self) -> RunFacts:
        """Return uptime, whether ticks are being scheduled, and the last tick time."""
        replaying = any(not t.done() for t in self._tasks if t.get_name() == "replay")
        scheduling = self._scheduler is not None and self._scheduler.running
        problems = (f"engine stopped: {self.fatal}",) if self.fatal is not None else ()
        waiting = self.parts.venue.state().waiting if self.parts.venue is not None else ""
        if waiting:
            problems = (*problems, waiting)
        backup = self.parts.backups.status() if self.parts.backups is not None else None
        if backup is not None and backup.error is not None:
            problems = (*problems, f"backup failed: {backup.error}")
        return RunFacts(time.monotonic() - self._started, scheduling or replaying,
                        self.parts.engine.trading.last_tick_at, problems,
                        backup.last if backup is not None else None, self.jobs(),
                        self.parts.breaker.state if self.parts.breaker is not None else None)

    def _job_detail(self, job_id: str) -> str:
        if job_id != "backup" or self.parts.backups is None:
            return ""
        last = self.parts.backups.status().last
        return "" if last is None else f"last backup {last.path.name}, {last.size_bytes:,} bytes"

    # ── start ──────────────────────────────────────────────────────────────────────────────
    async def start(self) -> None:
        """Start the health server and the alert dispatcher, then reconcile and start the ticks.

        Live and paper first need the venue: when it does not answer, start returns anyway and a
        background task waits with backoff (visible on /ready), then reconciles and starts the
        scheduler (protection monitor included) as soon as it answers.
        """
        if self._running:
            return
        self._running = True
        self._started = time.monotonic()
        await self._start_health()
        self._spawn("alerts", self.parts.alerts.run(idle_seconds=5.0))
        for run in self.parts.venues:  # each further account's outbox lives in its own store
            self._spawn("alerts", run.alerts.run(idle_seconds=5.0))
        if self.parts.replay is not None:
            if self.parts.reconcile is not None:
                await self.parts.reconcile()  # logs and announces its own report
            self._spawn("replay", self._run_replay(self.parts.replay))
            logger.info("engine started (replay demo)")
            return
        cfg = self.parts.scheduler_config
        for run in self.parts.venues:  # each further account reconciles on its own; one down waits alone
            self._spawn("venue-wait", run.start_up(cfg.venue_retry_seconds, cfg.venue_retry_max_seconds))
        startup = self._venue_startup()
        if await startup.open():
            self._start_scheduler()
            logger.info("engine started (scheduler)")
        else:
            self._spawn("venue-wait", self._wait_for_venue(startup))

    def _venue_startup(self) -> VenueStartup:
        cfg = self.parts.scheduler_config
        watch = self.parts.venue or VenueWatch(stale_after=float("inf"))

        async def work() -> None:
            await self.parts.exchange.balances()  # a signed call: the venue answers and knows our keys
            if self.parts.reconcile is not None:
                await self.parts.reconcile()  # idempotent: a retry after a fault midway is safe
        return VenueStartup(work, watch, Backoff(cfg.venue_retry_seconds, cfg.venue_retry_max_seconds))

    async def _wait_for_venue(self, startup: VenueStartup) -> None:
        try:
            await startup.wait()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # not a venue outage (bad keys, a broken invariant): stop loudly
            await self._fail(exc)
            return
        self._start_scheduler()
        logger.info("engine started (scheduler) after waiting for the venue")

    def _spawn(self, name: str, work: Awaitable[None]) -> None:
        async def wrapped() -> None:
            await work
        task = asyncio.get_running_loop().create_task(wrapped(), name=name)
        self._tasks.append(task)

    async def _run_replay(self, driver: ReplayDriver) -> None:
        try:
            await driver.run(self.parts.max_candles)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a store error (disk full) ends the replay: fatal, never a silent exit 0
            await self._fail(exc)
        finally:
            self.finished.set()

    async def _fail(self, exc: BaseException) -> None:
        """Stop the engine on ``exc``: log one critical line, alert where a channel still works."""
        why = "a broken invariant" if isinstance(exc, InvariantViolation) else "a fatal error"
        logger.critical("engine stopped on %s (restart reconciles): %s: %s", why, type(exc).__name__, exc,
                        exc_info=exc)
        self.fatal = exc
        alert = Alert("fatal", f"Engine stopped on {why}: {type(exc).__name__}: {exc}. The service exits; "
                      "the next start reconciles.", Severity.CRITICAL)
        try:
            await asyncio.wait_for(self.parts.alerts.publish_urgent(alert), STOP_FLUSH_SECONDS)
        except Exception as failure:  # no channel works: the log line above is all we can do
            logger.error("the fatal alert could not be delivered: %s: %s", type(failure).__name__, failure)
        self.finished.set()

    def _start_scheduler(self) -> None:
        cfg = self.parts.scheduler_config
        scheduler = TradingScheduler(cfg)
        for plan in self.parts.engine.plans():
            scheduler.add_tick(TickJob(plan.strategy, plan.symbol, plan.timeframe, self._tick_job(plan)))
        guard = self._guarded
        scheduler.add_monitors(guard("monitor", self._monitor, "monitor"),
                               guard("equity", self._equity, "risk"),
                               guard("heartbeat", self._heartbeat, "heartbeat"))
        scheduler.add_daily("daily_summary", guard("daily summary", self._daily_summary, "daily_summary"),
                            cfg.daily_summary_hour, self.parts.timezone)
        if self.parts.backups is not None and self.parts.backups.config.enabled:
            scheduler.add_daily("backup", guard("backup", self._backup, "backup"),
                                self.parts.backups.config.hour, "UTC")
        if self.parts.drift is not None and cfg.drift_enabled:
            scheduler.add_daily("drift", guard("drift report", self._drift, "drift"), cfg.drift_hour,
                                self.parts.timezone)
        if self.parts.faults is not None and self.parts.venue is not None:
            checks = FaultChecks(self.parts.faults, self.parts.venue, lambda: self.parts.engine.trading,
                                 self.parts.clock, watch_venue=self.parts.breaker is None)
            scheduler.add_interval("faults", guard("fault checks", checks.run, "faults"),
                                   cfg.monitor_interval_seconds)
        if self.parts.breaker is not None:
            scheduler.add_interval("breaker", guard("venue breaker", self.parts.breaker.run, "breaker"),
                                   self.parts.breaker.config.probe_seconds)
        for run in self.parts.venues:
            run.schedule(scheduler, guard, cfg.monitor_interval_seconds, cfg.risk_interval_seconds)
        refresh = guard("candle refresh", self._refresh_candles, "candle_refresh")
        scheduler.add_interval("candle_refresh", refresh, CANDLE_REFRESH_SECONDS)
        if self.parts.news is not None:
            scheduler.add_interval("news", guard("news refresh", self._news, "news"),
                                   self.parts.news_every_seconds)
        if self.parts.portfolio_snapshot is not None:
            snapshot = guard("basket snapshot", self._snapshot, "portfolio_snapshot")
            scheduler.add_daily("portfolio_snapshot", snapshot, self.parts.portfolio_hour, "UTC")
        scheduler.start()
        self._scheduler = scheduler
        logger.info("scheduler started: %s", ", ".join(scheduler.job_ids()))
        self._announce_first_tick(cfg.candle_close_delay_seconds)

    def _announce_first_tick(self, delay: float) -> None:
        plans = self.parts.engine.plans()
        if not plans:
            return
        step = min(timeframe_ms(p.timeframe) for p in plans)
        now_ms = datetime_to_ms(self.parts.clock.now())
        first = ms_to_datetime((now_ms // step + 1) * step) + timedelta(seconds=delay)
        logger.info("first strategy ticks at %s UTC, after the next candle closes "
                    "(for a demo that trades at once: tradebot run --replay)", f"{first:%Y-%m-%d %H:%M:%S}")

    def _tick_job(self, plan: TickPlan) -> Callable[[], Awaitable[None]]:
        async def tick() -> None:
            # the trading service records the tick's latency in the shared metrics
            report = await self.parts.engine.trading.run_tick(plan.strategy, plan.symbol, plan.timeframe)
            log_tick(report)
        job_id = TickJob(plan.strategy, plan.symbol, plan.timeframe, tick).job_id
        return self._guarded(f"tick {plan.strategy} {plan.symbol} {plan.timeframe}", tick, job_id)

    def _guarded(self, what: str, job: Callable[[], Awaitable[None]],
                 job_id: str) -> Callable[[], Awaitable[None]]:
        recorded = self._ledger.wrap(job_id, job)  # inside the guard: the ledger sees failures first

        async def run() -> None:
            try:
                await recorded()
            except InvariantViolation as exc:
                await self._fail(exc)
            except Exception as exc:  # a failing job is logged, alerted per episode, retried next run
                if self.parts.breaker is not None and self.parts.breaker.absorbs(exc):
                    logger.warning("%s: venue call unanswered (the breaker counts it): %s", what, exc)
                    return
                logger.exception("%s failed", what)
                if self.parts.faults is not None:
                    await self.parts.faults.failed(what, f"{type(exc).__name__}: {exc}"[:300])
            else:
                if self.parts.faults is not None:
                    await self.parts.faults.succeeded(what)
        return run

    async def _monitor(self) -> None:
        if self.parts.monitor is not None:
            await self.parts.monitor()

    async def _equity(self) -> None:
        if self.parts.risk_check is not None:  # equity through step: daily loss and drawdown guards
            await self.parts.risk_check()
        account = await self.parts.exchange.balances()
        async with self.parts.uow_factory() as uow:
            await uow.equity.add(EquitySnapshot.from_account(account, self.parts.clock.now()))
            await uow.commit()
        self.metrics.set_equity(account.equity)
        state = await self.parts.engine.trading.engine_state()
        self.metrics.set_open_positions(state.open_count)

    async def _heartbeat(self) -> None:
        state = await self.parts.engine.trading.engine_state()
        facts = self.facts()
        logger.info("heartbeat: trading %s, %d open position(s), last tick %s",
                    state.risk.trading_state.value, state.open_count, facts.last_tick_at or "never")

    async def _daily_summary(self) -> None:
        profit = await self.parts.reports.profit(1)
        text = (f"Daily summary: {profit.closed_trades} closed trade(s), realised "
                f"{money(profit.realised, profit.quote, sign=True)}, unrealised "
                f"{money(profit.unrealised, profit.quote, sign=True)}")
        await self.parts.alerts.publish(Alert("summary", text))

    async def _backup(self) -> None:
        if self.parts.backups is not None:
            await self.parts.backups.run()  # alerts its own failures

    async def _snapshot(self) -> None:
        if self.parts.portfolio_snapshot is not None:
            await self.parts.portfolio_snapshot()  # values every basket with holdings; prices cached

    async def _news(self) -> None:
        if self.parts.news is not None:
            await self.parts.news()  # a failing feed is skipped inside; only a store error raises

    async def _drift(self) -> None:
        assert self.parts.drift is not None  # only scheduled when there is one
        try:
            await self.parts.drift()
        except DataError as exc:  # nothing traded yet, or candles missing: not a failure of the job
            logger.info("nightly drift report skipped: %s", exc.user_message)

    async def _refresh_candles(self) -> None:
        now = self.parts.clock.now()
        seen: set[tuple[str, str]] = set()
        for plan in self.parts.engine.plans():
            if (plan.symbol, plan.timeframe) in seen:
                continue
            seen.add((plan.symbol, plan.timeframe))
            await self.parts.market_data.fetch(self.parts.exchange, self.parts.store_exchange,
                                               Symbol(plan.symbol), plan.timeframe, now - timedelta(days=2))

    async def _start_health(self) -> None:
        if not self.parts.ops.health_enabled:
            return
        server = HealthServer(self.parts.ops, self.metrics, extensions=self._web)
        server.add_check("database", database_check(self.parts.uow_factory))
        server.add_check("exchange", self._exchange_ready)
        server.add_check("engine", self._engine_ready)
        for name, (check, note, optional) in self._extra_checks.items():
            server.add_check(name, check, note, optional=optional)
        for run in self.parts.venues:  # a further account's venue down degrades, the others trade on
            server.add_check(f"exchange_{run.label}", run.readiness, optional=True)
        server.set_facts(self._health_facts)
        try:
            await server.start()
        except OSError as exc:  # a busy port must not stop trading; the log says why
            logger.warning("health server not started on %s:%d: %s", self.parts.ops.health_host,
                           self.parts.ops.health_port, exc)
            return
        self._health = server

    def _health_facts(self) -> dict[str, object]:
        breaker: dict[str, object] = {} if self.parts.breaker is None else {
            "venue_breaker": self.parts.breaker.facts()}
        if self.parts.venues:
            breaker["venue_breakers"] = {r.label: r.breaker.facts() for r in self.parts.venues if r.breaker}
        if self.parts.backups is None:
            return breaker
        status = self.parts.backups.status()
        last = status.last
        backup: dict[str, object] = {
            "last_at": last.taken_at.isoformat() if last else None,
            "size_bytes": last.size_bytes if last else None,
            "failed_at": status.failed_at.isoformat() if status.failed_at else None,
            "error": status.error}
        return {"backup": backup, **breaker}

    async def _exchange_ready(self) -> CheckResult:
        # Never a venue call: the engine's own calls say how the venue is (a burst of /ready requests
        # must not eat the rate limit the protection monitor needs).
        if self.parts.venue is None:
            return CheckResult(True, "simulated venue (replay)")
        ok, detail = self.parts.venue.readiness()
        breaker = self.parts.breaker.state if self.parts.breaker is not None else None
        if breaker is not None and not breaker.allows_entries:
            since = breaker.down_since or breaker.since
            return CheckResult(False, f"breaker {breaker.state.value} since "
                                      f"{since:%Y-%m-%d %H:%M:%S} UTC; {detail}")
        return CheckResult(ok, detail)

    async def _engine_ready(self) -> CheckResult:
        if self.fatal is not None:
            return CheckResult(False, f"stopped: {type(self.fatal).__name__}")
        waiting = self.parts.venue.state().waiting if self.parts.venue is not None else ""
        if waiting:
            return CheckResult(False, "starting: " + waiting)
        return CheckResult(self.facts().scheduler_running, "")

    # ── stop ───────────────────────────────────────────────────────────────────────────────
    async def stop(self) -> None:
        """Stop in reverse order; deliver pending alerts for up to a few seconds; release everything."""
        if not self._running:
            await self._close()
            return
        self._running = False
        if self._scheduler is not None:
            self._scheduler.shutdown()
            self._scheduler = None
        await self._cancel("venue-wait")
        await self._cancel("replay")
        if self._health is not None:
            await self._health.stop()
            self._health = None
        for outbox in (self.parts.alerts, *(run.alerts for run in self.parts.venues)):
            with contextlib.suppress(Exception, TimeoutError):
                await asyncio.wait_for(outbox.dispatch_once(), STOP_FLUSH_SECONDS)
        await self._cancel("alerts")
        await self._close()
        logger.info("engine stopped")

    async def _cancel(self, name: str) -> None:
        for task in [t for t in self._tasks if t.get_name() == name]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            self._tasks.remove(task)

    async def _close(self) -> None:
        with contextlib.suppress(Exception):
            await self.parts.exchange.close()
        while self.parts.closers:
            closer = self.parts.closers.pop()
            try:
                await closer()
            except Exception:  # keep releasing the rest
                logger.exception("closing a runtime resource failed")
