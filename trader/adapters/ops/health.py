"""The service's HTTP server: ``/health``, ``/ready``, ``/metrics`` and the web API, in the service's loop.

The FastAPI app of ``web.app`` runs on uvicorn bound to ``OpsConfig.health_host`` (127.0.0.1 by
default; set it to 0.0.0.0 to expose the server, behind a TLS reverse proxy). Readiness checks are
async callables the engine registers by name; one that raises, returns False or times out makes the
service not ready (503, naming the failing checks). Metrics use their own CollectorRegistry so
several services (and tests) never collide on the process-global one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

import uvicorn
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from trader.config import OpsConfig
from trader.ports.store import UnitOfWorkFactory
from web.app import Extension, create_app
from web.ops import HEALTH_PATH, METRICS_PATH, READY_PATH

logger = logging.getLogger(__name__)

__all__ = ["HEALTH_PATH", "METRICS_PATH", "READY_PATH", "CheckResult", "HealthServer", "Metrics", "Readiness",
           "ReadinessCheck", "database_check"]

@dataclass(frozen=True, slots=True)
class CheckResult:
    """A check's answer with a line saying why (shown on /ready), e.g. the venue's last answer age."""

    ok: bool
    detail: str = ""


ReadinessCheck = Callable[[], Awaitable[bool | CheckResult | None]]
"""Return True/None (or an ok CheckResult) when ready; False, a failed CheckResult or an exception
means not ready."""

READY_REUSE_SECONDS: Final = 0.5
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
    """Outcome of the readiness checks: failing names with a short reason each.

    ``degraded`` holds the optional checks that failed (Telegram: trading runs without it), and
    ``details`` every check's detail line.
    """

    failing: dict[str, str]
    degraded: dict[str, str] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)

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


def _listen(host: str, port: int) -> socket.socket:
    """Bind and listen here, so a busy port fails ``start`` (OSError) and port 0 tells its number."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class HealthServer:
    """Serve /health, /ready, /metrics and the ``extensions`` (web API); ``port`` is the bound port."""

    def __init__(self, config: OpsConfig, metrics: Metrics, check_timeout: float = 5.0,
                 extensions: tuple[Extension, ...] = ()) -> None:
        self._config = config
        self._metrics = metrics
        self._timeout = check_timeout
        self._extensions = extensions
        self._checks: dict[str, ReadinessCheck] = {}
        self._optional: set[str] = set()
        self._running_checks: asyncio.Future[Readiness] | None = None
        self._last: tuple[float, Readiness] | None = None
        self._notes: dict[str, str] = {}
        self._facts: Callable[[], dict[str, object]] = dict
        self._started = time.monotonic()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._port: int | None = None
        self._host: str | None = None

    def add_check(self, name: str, check: ReadinessCheck, note: str = "", *, optional: bool = False) -> None:
        """Register (or replace) a named readiness check, e.g. "database", "exchange", "scheduler".

        ``note`` is shown next to it in /ready (e.g. "telegram": "not configured"). An ``optional``
        check that fails marks the service degraded, not unready.
        """
        self._checks[name] = check
        self._last = None
        self._optional.discard(name)
        if optional:
            self._optional.add(name)
        self._notes.pop(name, None)
        if note:
            self._notes[name] = note

    def remove_check(self, name: str) -> None:
        """Forget a readiness check (a component that stopped on purpose)."""
        self._checks.pop(name, None)
        self._last = None
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

    @property
    def address(self) -> tuple[str, int]:
        """Return the bound (host, port); only valid after start()."""
        if self._host is None or self._port is None:
            raise RuntimeError("health server is not started")
        return self._host, self._port

    async def readiness(self) -> Readiness:
        """Return the checks' outcome; concurrent requests share one run, reused for READY_REUSE_SECONDS.

        So a burst of /ready requests costs one database read, not one each (the engine shares the store).
        """
        if self._last is not None and time.monotonic() - self._last[0] < READY_REUSE_SECONDS:
            return self._last[1]
        if self._running_checks is None or self._running_checks.done():
            self._running_checks = asyncio.ensure_future(self._run_checks())
        result = await asyncio.shield(self._running_checks)
        self._last = (time.monotonic(), result)
        return result

    async def _run_checks(self) -> Readiness:
        """Run every check concurrently, each bounded by the timeout."""
        names = list(self._checks)
        results = await asyncio.gather(*(self._run_check(n, self._checks[n]) for n in names))
        outcome = dict(zip(names, results, strict=True))
        failing = {n: why for n, (why, _) in outcome.items() if why is not None and n not in self._optional}
        degraded = {n: why for n, (why, _) in outcome.items() if why is not None and n in self._optional}
        details = {n: detail for n, (_, detail) in outcome.items() if detail}
        return Readiness(failing, degraded, details)

    async def _run_check(self, name: str, check: ReadinessCheck) -> tuple[str | None, str]:
        # The HTTP body names only the exception type: messages may carry hosts or URLs; the log has them.
        try:
            ok = await asyncio.wait_for(check(), self._timeout)
        except TimeoutError:
            logger.warning("readiness check %s timed out after %gs", name, self._timeout)
            return "timeout", ""
        except Exception as exc:  # a failing dependency is an answer, not a crash of the endpoint
            logger.warning("readiness check %s failed: %s", name, exc)
            return type(exc).__name__, ""
        if isinstance(ok, CheckResult):
            return (None if ok.ok else ok.detail or "not ready"), ok.detail
        return ("not ready" if ok is False else None), ""

    # ── web.ops.OpsProbe ───────────────────────────────────────────────────────────────────
    def uptime_seconds(self) -> float:
        """Return the seconds since this server was made."""
        return time.monotonic() - self._started

    def set_facts(self, facts: Callable[[], dict[str, object]]) -> None:
        """Serve ``facts()`` on /health beside the uptime (the lifecycle adds the last backup)."""
        self._facts = facts

    def health_facts(self) -> dict[str, object]:
        """Return the extra /health facts."""
        return self._facts()

    async def ready_body(self) -> tuple[bool, dict[str, object]]:
        """Return whether every check passes and the /ready body."""
        result = await self.readiness()
        extra: dict[str, object] = {"notes": dict(sorted(self._notes.items()))} if self._notes else {}
        if result.degraded:
            extra["degraded"] = dict(sorted(result.degraded.items()))
        if result.details:
            extra["details"] = dict(sorted(result.details.items()))
        if result.is_ready:
            return True, {"status": "ready", "checks": sorted(self._checks), **extra}
        return False, {"status": "not ready", "failing": sorted(result.failing), "reasons": result.failing,
                       **extra}

    def metrics_page(self) -> tuple[bytes, str]:
        """Return the Prometheus exposition and its content type."""
        return self._metrics.render(), CONTENT_TYPE_LATEST

    # ── serving ────────────────────────────────────────────────────────────────────────────
    async def start(self) -> None:
        """Bind (OSError when the port is taken) and serve in this event loop until ``stop``."""
        sock = _listen(self._config.health_host, self._config.health_port)
        app = create_app(self, self._extensions)
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off",
                                server_header=False, timeout_graceful_shutdown=3)
        config.load()
        # No line per request in the service log (the dashboard polls); the app logs its own failures.
        logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
        server = uvicorn.Server(config)
        # serve() would install its own SIGINT/SIGTERM handlers; the entrypoint owns those, so the
        # steps of serve() run here instead: startup now (listening), main loop and shutdown in a task.
        server.lifespan = config.lifespan_class(config)
        try:
            await server.startup(sockets=[sock])
        except BaseException:
            sock.close()
            raise
        self._task = asyncio.get_running_loop().create_task(self._serve(server, sock), name="http")
        self._server = server
        self._host, self._port = str(sock.getsockname()[0]), int(sock.getsockname()[1])
        logger.info("HTTP server on http://%s:%d", self._config.health_host, self._port)

    @staticmethod
    async def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
        await server.main_loop()
        await server.shutdown(sockets=[sock])

    async def stop(self) -> None:
        """Stop serving and release the port."""
        server, task = self._server, self._task
        self._server = self._task = None
        self._port = self._host = None
        if server is not None:
            server.should_exit = True
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5.0)
