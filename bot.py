"""Entrypoint: load Settings, build the runtime, run the Telegram bot and the engine in one event loop.

``build_application`` makes the one PTB ``Application`` (base URL from config, AIORateLimiter, typed
context, arbitrary callback data, lifecycle hooks); ``serve`` runs it until a stop event. Without a
token the runtime runs headless with console alerts and we print how to add a token and chat id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from telegram import Update
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes
from telegram.request import BaseRequest

from handlers import publish_commands, register
from handlers.access import AccessList
from handlers.context import BotApplication, BotContext, BotData
from trader.config.sections import TelegramConfig
from trader.notify.telegram_channel import TelegramNotifier
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


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Outgoing limits for AIORateLimiter; Telegram allows about 30 messages/s and 20/min per group."""

    overall_per_second: float = 30.0
    group_per_minute: float = 20.0
    max_retries: int = 3  # retries after a 429, each after the server's retry_after


def build_application(config: TelegramConfig, services: Services, lifecycle: Lifecycle | None = None, *,
                      limits: RateLimits = RateLimits(),
                      request: BaseRequest | None = None) -> BotApplication:
    """Return the configured Application with every handler registered (``request``: tests only)."""
    if config.token is None:
        raise ValueError("build_application needs telegram.token")
    builder = (
        ApplicationBuilder()
        .token(config.token.get_secret_value())
        .base_url(config.api_base_url)
        .base_file_url(_file_url(config.api_base_url))
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        .rate_limiter(AIORateLimiter(overall_max_rate=limits.overall_per_second,
                                     group_max_rate=limits.group_per_minute, max_retries=limits.max_retries))
        .arbitrary_callback_data(True)
        .post_init(_on_start(lifecycle))
        .post_shutdown(_on_stop(lifecycle))
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    app: BotApplication = builder.build()  # type: ignore[assignment]
    register(app, services, AccessList(config.allowed_chats))
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


async def serve(app: BotApplication, stop: asyncio.Event, *, poll_timeout: int = 10) -> None:
    """Run ``app`` (post_init, polling, handlers) until ``stop`` is set, then shut down in reverse."""
    await app.initialize()
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
        try:
            await app.shutdown()
        finally:
            if app.post_shutdown is not None:
                await app.post_shutdown(app)


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


async def run(config: TelegramConfig, runtime: Runtime, stop: asyncio.Event) -> None:
    """Serve Telegram when a token is configured, otherwise run headless."""
    if config.token is None:
        await run_headless(runtime.lifecycle, stop)
        return
    app = build_application(config, runtime.services, runtime.lifecycle)
    chat_ids = [u.id for u in config.allowed_chats]
    if chat_ids:
        runtime.use_telegram(TelegramNotifier(app.bot, chat_ids))
    else:
        logger.warning("telegram.allowed_chats is empty: nobody is served; send /whoami to learn your id")
    await serve(app, stop)


async def main_async(settings: Settings | None = None, options: RunOptions | None = None) -> int:
    """Build the runtime, run it until SIGINT/SIGTERM or the end of a bounded replay; return the exit code."""
    from trader.config.settings import load_settings
    from trader.runtime.container import build_runtime

    settings = settings or load_settings()
    runtime = await build_runtime(settings, options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
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
    return 1 if runtime.lifecycle.fatal is not None else 0


async def _stop_when_finished(lifecycle: RuntimeLifecycle, stop: asyncio.Event, *, always: bool) -> None:
    """Stop when the engine failed, or when a replay ran out and nobody is there to keep watching."""
    await lifecycle.finished.wait()
    if always or lifecycle.fatal is not None:
        stop.set()


def main(settings: Settings | None = None, options: RunOptions | None = None) -> int:
    """Run the bot until SIGINT/SIGTERM; exit code 2 on a configuration error."""
    from trader.errors import ConfigError

    try:
        return asyncio.run(main_async(settings, options))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
