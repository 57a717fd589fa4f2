"""Entrypoint: load Settings, build the runtime, run the Telegram bot and the engine in one event loop.

``build_application`` makes the one PTB ``Application`` (base URL from config, SharedWaitRateLimiter, typed
context, arbitrary callback data, lifecycle hooks); ``serve`` runs it until a stop event. Without a
token the runtime runs headless with console alerts and we print how to add a token and chat id.

Trading and protection never depend on Telegram: ``run`` starts the engine first, then ``serve``
connects the bot with capped backoff while the Bot API is unreachable, slow or rejects the token.
Alerts wait in the outbox meanwhile (the Telegram route refuses them until connected, so the outbox
retries), and /ready shows Telegram as degraded, not the service as down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TextIO, runtime_checkable

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE  # BaseRequest.do_request's own defaults
from telegram._utils.types import ODVInput
from telegram.ext import ApplicationBuilder, ContextTypes
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from handlers import publish_commands, register
from handlers.access import AccessList
from handlers.context import BotApplication, BotContext, BotData
from trader.adapters.notify.telegram_channel import TelegramNotifier
from trader.adapters.notify.telegram_limits import SharedWaitRateLimiter
from trader.config.sections import TelegramConfig
from trader.core.domain.alerts import Alert
from trader.ports.notify import Notifier
from trader.services.api import Services

if TYPE_CHECKING:
    from trader.config.settings import Settings
    from trader.runtime.container import RunOptions
    from trader.runtime.lifecycle import Lifecycle as RuntimeLifecycle

logger = logging.getLogger("bot")

HEADLESS_HELP = """\
No Telegram token is configured: running headless, alerts go to the console.
To control the bot from Telegram:
  1. Create a bot with @BotFather and copy its token.
  2. Set TRADER_TELEGRAM__TOKEN=<token> (environment, .env or the config file) and restart.
  3. Send /whoami to your bot; it answers with your chat id.
  4. Set TRADER_TELEGRAM__ALLOWED_CHATS=<chat id>:admin and restart.
"""


class Lifecycle(Protocol):
    """What the bot starts after Telegram is ready and stops before it shuts down (engine, scheduler)."""

    async def start(self) -> None:
        """Start the engine's moving parts."""
        ...

    async def stop(self) -> None:
        """Stop them, in reverse order; also called after a failed or partial start."""
        ...


class Runtime(Protocol):
    """What ``run`` needs from the composition root (``trader.runtime.container``)."""

    @property
    def services(self) -> Services:
        """Return the services bundle handlers receive."""
        ...

    @property
    def lifecycle(self) -> Lifecycle:
        """Return what starts and stops the engine (read-only, so any richer lifecycle fits)."""
        ...

    def use_telegram(self, notifier: Notifier) -> None:
        """Route alerts to Telegram as well (called before ``lifecycle.start``)."""
        ...

    def retry_alerts(self) -> None:
        """Retry undelivered alerts now (Telegram just connected)."""
        ...


@runtime_checkable
class ReadinessHost(Protocol):
    """A lifecycle that serves readiness checks (``trader.runtime.lifecycle.Lifecycle``)."""

    def add_check(self, name: str, check: Callable[[], Awaitable[bool | None]], note: str = "", *,
                  optional: bool = False) -> None:
        """Add (or replace) a named readiness check; a failing optional one means degraded."""
        ...


_LINK_METHODS = frozenset({"getMe", "getUpdates"})


class TelegramLink:
    """Whether the Bot API answered the bot's last getMe/getUpdates, and recently: the "telegram" check.

    Polling asks getUpdates at least every poll timeout (10 s), so ``fresh_seconds`` (60 s) without an
    answer, or a failed last answer (network error, 409 from a second poller, 401), means not connected.
    """

    def __init__(self, fresh_seconds: float = 60.0, now: Callable[[], float] = time.monotonic) -> None:
        self._fresh = fresh_seconds
        self._now = now
        self._ok_at: float | None = None
        self._failed = False

    def record(self, ok: bool) -> None:
        """Remember the outcome of one getMe/getUpdates call."""
        self._failed = not ok
        if ok:
            self._ok_at = self._now()

    @property
    def connected(self) -> bool:
        """Return True when the last call succeeded within ``fresh_seconds``."""
        return not self._failed and self._ok_at is not None and self._now() - self._ok_at <= self._fresh

    async def ready(self) -> bool:
        """Readiness check: connected."""
        return self.connected


class TrackedRequest(BaseRequest):
    """Send through ``inner`` and tell ``link`` how each getMe/getUpdates went."""

    def __init__(self, inner: BaseRequest, link: TelegramLink) -> None:
        self._inner = inner
        self._link = link

    @property
    def read_timeout(self) -> float | None:
        """Return the inner request's default read timeout."""
        return self._inner.read_timeout

    async def initialize(self) -> None:
        """Initialize the inner request."""
        await self._inner.initialize()

    async def shutdown(self) -> None:
        """Shut the inner request down."""
        await self._inner.shutdown()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: ODVInput[float] = DEFAULT_NONE,
                         write_timeout: ODVInput[float] = DEFAULT_NONE,
                         connect_timeout: ODVInput[float] = DEFAULT_NONE,
                         pool_timeout: ODVInput[float] = DEFAULT_NONE) -> tuple[int, bytes]:
        """Make the request through the inner one; record getMe/getUpdates outcomes."""
        watched = url.rsplit("/", 1)[-1] in _LINK_METHODS
        try:
            status, payload = await self._inner.do_request(url, method, request_data, read_timeout,
                                                           write_timeout, connect_timeout, pool_timeout)
        except Exception:
            if watched:
                self._link.record(False)
            raise
        if watched:
            self._link.record(200 <= status < 300)
        return status, payload


class ConnectedNotifier:
    """The Telegram route, refusing alerts until the bot has connected (the outbox keeps and retries them)."""

    def __init__(self, inner: Notifier, connected: asyncio.Event) -> None:
        self._inner = inner
        self._connected = connected

    async def send(self, alert: Alert) -> None:
        """Deliver through ``inner`` once connected; raise before, so the outbox retries."""
        if not self._connected.is_set():
            raise ConnectionError("the Telegram bot is not connected yet")
        await self._inner.send(alert)


@dataclass(frozen=True, slots=True)
class ConnectBackoff:
    """Pauses between attempts to reach the Bot API: ``first`` doubling up to ``cap`` seconds."""

    first: float = 1.0
    cap: float = 60.0

    def delay(self, attempt: int) -> float:
        """Return the pause after the ``attempt``-th failed attempt (1-based)."""
        return float(min(self.cap, self.first * 2 ** max(attempt - 1, 0)))


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Outgoing limits (``SharedWaitRateLimiter``): Telegram allows about 30 messages/s, 20/min per group."""

    overall_per_second: float = 30.0
    group_per_minute: float = 20.0
    max_retries: int = 3  # retries after a 429, each after the server's retry_after


def build_application(config: TelegramConfig, services: Services, lifecycle: Lifecycle | None = None, *,
                      limits: RateLimits = RateLimits(), request: BaseRequest | None = None,
                      link: TelegramLink | None = None, dashboard_url: str | None = None) -> BotApplication:
    """Return the configured Application with every handler registered (``request``: tests only).

    ``link`` learns whether getMe/getUpdates succeed (the "telegram" readiness check);
    ``dashboard_url`` (``web.public_url``) is where /dashboard opens the Mini App.
    """
    if config.token is None:
        raise ValueError("build_application needs telegram.token")
    builder = (
        ApplicationBuilder()
        .token(config.token.get_secret_value())
        .base_url(config.api_base_url)
        .base_file_url(_file_url(config.api_base_url))
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        .rate_limiter(SharedWaitRateLimiter(overall_per_second=limits.overall_per_second,
                                            group_per_minute=limits.group_per_minute,
                                            max_retries=limits.max_retries))
        .arbitrary_callback_data(True)
        .post_init(_on_start(lifecycle))
        .post_shutdown(_on_stop(lifecycle))
    )
    if link is not None:
        # PTB's own defaults: a large pool for calls, one connection for the long poll.
        calls = TrackedRequest(request or HTTPXRequest(connection_pool_size=256), link)
        polls = calls if request is not None else TrackedRequest(HTTPXRequest(connection_pool_size=1), link)
        builder = builder.request(calls).get_updates_request(polls)
    elif request is not None:
        builder = builder.request(request).get_updates_request(request)
    app: BotApplication = builder.build()  # type: ignore[assignment]
    totp = config.admin_totp_secret.get_secret_value() if config.admin_totp_secret is not None else None
    register(app, services, AccessList(config.allowed_chats), dashboard_url, totp_secret=totp)
    return app


def _file_url(base_url: str) -> str:
    return base_url[: -len("/bot")] + "/file/bot" if base_url.endswith("/bot") else base_url


def _on_start(lifecycle: Lifecycle | None) -> Callable[[Any], Coroutine[Any, Any, None]]:
    async def hook(app: BotApplication) -> None:
        await publish_commands(app)
        if lifecycle is not None:
            await lifecycle.start()
    return hook


def _on_stop(lifecycle: Lifecycle | None) -> Callable[[Any], Coroutine[Any, Any, None]]:
    async def hook(app: BotApplication) -> None:
        if lifecycle is not None:
            await lifecycle.stop()
    return hook


async def serve(app: BotApplication, stop: asyncio.Event, *, poll_timeout: int = 10,
                backoff: ConnectBackoff = ConnectBackoff(), connected: asyncio.Event | None = None) -> None:
    """Connect ``app`` (with backoff), then post_init, polling and handlers until ``stop``; stop in reverse.

    ``connected`` is set once the Bot API answered getMe. post_shutdown runs whether or not it ever did.
    """
    try:
        if not await _connect(app, stop, backoff):
            return
        if connected is not None:
            connected.set()
        try:
            if app.post_init is not None:
                await app.post_init(app)
            assert app.updater is not None
            await app.updater.start_polling(timeout=poll_timeout, allowed_updates=Update.ALL_TYPES)
            await app.start()
            await stop.wait()
            await app.updater.stop()
            await app.stop()
        finally:
            await app.shutdown()
    finally:
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


async def _connect(app: BotApplication, stop: asyncio.Event, backoff: ConnectBackoff) -> bool:
    """Initialize ``app`` (getMe) until it works or ``stop`` is set; return whether it connected."""
    attempt = 0
    while not stop.is_set():
        attempt += 1
        try:
            await app.initialize()
            if attempt > 1:
                logger.info("Telegram connected after %d attempt(s)", attempt)
            return True
        except Exception as exc:  # unreachable, slow (timed out) or rejecting the token: keep trading
            pause = backoff.delay(attempt)
            hint = " (check telegram.token)" if type(exc).__name__ == "InvalidToken" else ""
            logger.warning("Telegram is not reachable (attempt %d): %s: %s%s; retrying in %.0fs, trading "
                           "and protection go on, alerts wait in the outbox", attempt, type(exc).__name__,
                           exc, hint, pause)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
    return False


async def run_headless(lifecycle: Lifecycle, stop: asyncio.Event, out: TextIO | None = None) -> None:
    """Run the engine without Telegram until ``stop`` is set, after printing how to add a token."""
    out = out or sys.stdout
    out.write(HEADLESS_HELP)
    out.flush()
    await lifecycle.start()
    try:
        await stop.wait()
    finally:
        await lifecycle.stop()


async def run(config: TelegramConfig, runtime: Runtime, stop: asyncio.Event, *,
              backoff: ConnectBackoff = ConnectBackoff()) -> None:
    """Serve Telegram when a token is configured, otherwise run headless.

    The engine starts first and never waits for the Bot API; the bot connects in the background.
    """
    if config.token is None:
        await run_headless(runtime.lifecycle, stop)
        return
    link = TelegramLink()
    web = getattr(runtime, "web", None)  # trader.runtime.container.Runtime has it when the API is on
    app = build_application(config, runtime.services, link=link,
                            dashboard_url=getattr(web, "public_url", None))
    if isinstance(runtime.lifecycle, ReadinessHost):
        runtime.lifecycle.add_check("telegram", link.ready, optional=True)  # replaces "not configured"
    connected = asyncio.Event()
    chat_ids = [u.id for u in config.allowed_chats]
    if chat_ids:
        runtime.use_telegram(ConnectedNotifier(TelegramNotifier(app.bot, chat_ids), connected))
    else:
        logger.warning("telegram.allowed_chats is empty: nobody is served; send /whoami to learn your id")
    watcher = asyncio.create_task(_retry_alerts_when(connected, runtime))
    try:
        await runtime.lifecycle.start()
        await serve(app, stop, backoff=backoff, connected=connected)
    finally:
        watcher.cancel()
        await runtime.lifecycle.stop()  # also after a failed start: releases the lock and the database


async def _retry_alerts_when(connected: asyncio.Event, runtime: Runtime) -> None:
    await connected.wait()
    runtime.retry_alerts()  # alerts queued while Telegram was away go now, not after their backoff


async def main_async(settings: Settings | None = None, options: RunOptions | None = None) -> int:
    """Build the runtime, run it until SIGINT/SIGTERM or the end of a bounded replay; return the exit code."""
    from trader.adapters.ops.log_setup import asyncio_exception_handler
    from trader.config.settings import load_settings
    from trader.runtime.container import build_runtime

    loop = asyncio.get_running_loop()
    loop.set_exception_handler(asyncio_exception_handler)  # secrets redacted in what asyncio reports
    settings = settings or load_settings()
    runtime = await build_runtime(settings, options)
    print(runtime.banner, flush=True)  # the first thing on the console: what runs
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # signal handlers are POSIX-only
            loop.add_signal_handler(sig, stop.set)
    headless = runtime.telegram.token is None
    bounded = options is not None and options.max_candles is not None
    watcher = asyncio.create_task(_stop_when_finished(runtime.lifecycle, stop, always=headless or bounded))
    try:
        await run(runtime.telegram, runtime, stop)
    finally:
        watcher.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)
    fatal = runtime.lifecycle.fatal
    if fatal is None:
        return 0
    _print_fatal(f"tradebot: the engine stopped on {type(fatal).__name__}: {fatal} (exit code 1; the next "
                 "start reconciles)")
    return 1


def _print_fatal(line: str) -> None:
    """Print the one line that says why the process ends, secrets redacted, on stderr."""
    from trader.adapters.ops.log_setup import redact

    first = redact(line).splitlines()[0] if line else "tradebot: fatal error"
    print(first, file=sys.stderr, flush=True)


async def _stop_when_finished(lifecycle: RuntimeLifecycle, stop: asyncio.Event, *, always: bool) -> None:
    """Stop when the engine failed, or when a replay ran out and nobody is there to keep watching."""
    await lifecycle.finished.wait()
    if always or lifecycle.fatal is not None:
        stop.set()


def main(settings: Settings | None = None, options: RunOptions | None = None) -> int:
    """Run the bot until SIGINT/SIGTERM; exit code 2 on a configuration error, 1 on any fatal error.

    TraderError goes on to the CLI's printer (its user message); anything unexpected is logged with
    its traceback and ends with one clear line, never a silent exit 0.
    """
    from trader.adapters.ops.log_setup import redact
    from trader.adapters.store.failures import explain as explain_store_failure
    from trader.core.errors import ConfigError, StoreError, TraderError
    from trader.runtime.numba_cache import ensure_numba_cache

    ensure_numba_cache()  # `python bot.py` skips the CLI, which does this for `tradebot run`

    try:
        return asyncio.run(main_async(settings, options))
    except ConfigError as exc:
        print(redact(str(exc)), file=sys.stderr)
        return 2
    except TraderError as exc:
        explained = explain_store_failure(exc) if isinstance(exc, StoreError) else None
        if explained is not None:  # the CLI's printer shows its one line
            raise explained from exc
        raise
    except Exception as exc:
        explained = explain_store_failure(exc)
        if explained is not None:  # read-only, full, corrupt or unreachable database: no traceback helps
            _print_fatal(f"tradebot: {explained.user_message} (exit code 1)")
            return 1
        logger.critical("fatal error", exc_info=exc)
        _print_fatal(f"tradebot: fatal error: {type(exc).__name__}: {exc} (exit code 1)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
