"""Health server inside the service: ``/health`` (alive), ``/ready`` (checks) and ``/metrics`` (Prometheus).

A small aiohttp app bound to ``OpsConfig.health_host`` (127.0.0.1 by default). Readiness checks are
async callables the engine registers by name; one that raises, returns False or times out makes the
service not ready (503, naming the failing checks). Metrics use their own CollectorRegistry so
several services (and tests) never collide on the process-global one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from trader.config import OpsConfig
from trader.ports.store import UnitOfWorkFactory

logger = logging.getLogger(__name__)

HEALTH_PATH: Final = "/health"
READY_PATH: Final = "/ready"
METRICS_PATH: Final = "/metrics"

ReadinessCheck = Callable[[], Awaitable[bool | None]]
"""Return True/None when ready; False or an exception means not ready."""

_TICK_BUCKETS: Final = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The service's Prometheus metrics in a private registry; the engine updates them."""

    def __init__(self, namespace: str = "trader") -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        reg, ns = self.registry, namespace
        self._open_positions = Gauge("open_positions", "Open positions", namespace=ns, registry=reg)
        self._equity = Gauge("equity", "Account equity in the quote currency", namespace=ns, registry=reg)
        self._orders_placed = Counter("orders_placed", "Orders accepted by the venue", namespace=ns,
                                      registry=reg)
        self._orders_failed = Counter("orders_failed", "Orders rejected or failed", namespace=ns,
                                      registry=reg)
        self._tick_latency = Histogram("tick_latency_seconds", "Duration of one engine tick",
                                       namespace=ns, registry=reg, buckets=_TICK_BUCKETS)
        self._alerts_pending = Gauge("alerts_pending", "Alerts waiting in the outbox", namespace=ns,
                                     registry=reg)

    def set_open_positions(self, count: int) -> None:
        """Record the number of open positions."""
        self._open_positions.set(count)

    def set_equity(self, equity: Decimal) -> None:
        """Record equity; Prometheus samples are floats, exactness stays in the store."""
        self._equity.set(float(equity))

    def order_placed(self) -> None:
        """Count one order the venue accepted."""
        self._orders_placed.inc()

    def order_failed(self) -> None:
        """Count one order that was rejected or failed."""
        self._orders_failed.inc()

    def observe_tick(self, seconds: float) -> None:
        """Record how long one tick took, in seconds."""
        self._tick_latency.observe(seconds)

    def set_alerts_pending(self, count: int) -> None:
        """Record how many alerts wait for delivery."""
        self._alerts_pending.set(count)

    def render(self) -> bytes:
        """Return the metrics in the Prometheus text exposition format."""
        return generate_latest(self.registry)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Readiness:
    """Outcome of the readiness checks: failing names with a short reason each."""

    failing: dict[str, str]

    @property
    def is_ready(self) -> bool:
        """Return True when no check failed."""
        return not self.failing


def database_check(uow_factory: UnitOfWorkFactory) -> ReadinessCheck:
    """Return a readiness check that opens a unit of work and runs one small read."""

    async def check() -> bool:
        async with uow_factory() as uow:
            await uow.risk.get()
        return True

    return check


class HealthServer:
    """Serve /health, /ready and /metrics; ``port`` is the bound port (useful with port 0)."""

    def __init__(self, config: OpsConfig, metrics: Metrics, check_timeout: float = 5.0) -> None:
        self._config = config
        self._metrics = metrics
        self._timeout = check_timeout
        self._checks: dict[str, ReadinessCheck] = {}
        self._notes: dict[str, str] = {}
        self._started = time.monotonic()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    def add_check(self, name: str, check: ReadinessCheck, note: str = "") -> None:
        """Register (or replace) a named readiness check, e.g. "database", "exchange", "scheduler".

        ``note`` is shown next to it in /ready (e.g. "telegram": "not configured").
        """
        self._checks[name] = check
        self._notes.pop(name, None)
        if note:
            self._notes[name] = note

    def remove_check(self, name: str) -> None:
        """Forget a readiness check (a component that stopped on purpose)."""
        self._checks.pop(name, None)
        self._notes.pop(name, None)

    @property
    def metrics(self) -> Metrics:
        """Return the metrics this server exposes."""
        return self._metrics

    @property
    def port(self) -> int:
        """Return the bound TCP port; only valid after start()."""
        if self._port is None:
            raise RuntimeError("health server is not started")
        return self._port

    async def readiness(self) -> Readiness:
        """Run every check concurrently, each bounded by the timeout."""
        names = list(self._checks)
        results = await asyncio.gather(*(self._run_check(n, self._checks[n]) for n in names))
        return Readiness({n: why for n, why in zip(names, results, strict=True) if why is not None})

    async def _run_check(self, name: str, check: ReadinessCheck) -> str | None:
        # The HTTP body names only the exception type: messages may carry hosts or URLs; the log has them.
        try:
            ok = await asyncio.wait_for(check(), self._timeout)
        except TimeoutError:
            logger.warning("readiness check %s timed out after %gs", name, self._timeout)
            return "timeout"
        except Exception as exc:  # a failing dependency is an answer, not a crash of the endpoint
            logger.warning("readiness check %s failed: %s", name, exc)
            return type(exc).__name__
        return "not ready" if ok is False else None

    async def start(self) -> None:
        """Bind and start serving."""
        app = web.Application()
        app.router.add_get(HEALTH_PATH, self._health)
        app.router.add_get(READY_PATH, self._ready)
        app.router.add_get(METRICS_PATH, self._metrics_page)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._config.health_host, self._config.health_port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        logger.info("health server on http://%s:%d", self._config.health_host, self._port)

    async def stop(self) -> None:
        """Stop serving and release the port."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self._port = None

    async def _health(self, request: web.Request) -> web.Response:
        uptime = round(time.monotonic() - self._started, 3)
        return web.json_response({"status": "ok", "uptime_seconds": uptime})

    async def _ready(self, request: web.Request) -> web.Response:
        result = await self.readiness()
        notes = {"notes": dict(sorted(self._notes.items()))} if self._notes else {}
        if result.is_ready:
            return web.json_response({"status": "ready", "checks": sorted(self._checks), **notes})
        body = {"status": "not ready", "failing": sorted(result.failing), "reasons": result.failing, **notes}
        return web.json_response(body, status=503)

    async def _metrics_page(self, request: web.Request) -> web.Response:
        resp = web.Response(body=self._metrics.render())
        resp.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return resp
