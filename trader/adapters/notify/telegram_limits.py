"""The Telegram rate limiter: PTB's limits, plus one 429 wait that every send shares.

PTB's ``AIORateLimiter`` pauses other requests with an event while the request that got a 429 sleeps,
but any other request that finishes meanwhile sets that event again, so queued messages go out at
once (a trade alert left 1 ms after a 429 for another message); and once a request gives up after its
retries, nothing waits at all. Here a 429's ``retry_after`` moves one shared "resume at" time that
every request waits for right before it is sent, whoever hit the limit and whether or not it retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

logger = logging.getLogger(__name__)

MARGIN = 0.1  # seconds beyond retry_after, as PTB does: the server's clock is not ours
JSON = bool | dict[str, Any] | list[dict[str, Any]]


class SharedWaitRateLimiter(BaseRateLimiter[int]):
    """Throttle to ``overall_per_second`` (messages to chats) and ``group_per_minute`` (per group), and
    hold every request until a 429's ``retry_after`` has passed; retry a 429'd request ``max_retries``
    times. A limit of 0 turns that throttle off.
    """

    def __init__(self, *, overall_per_second: float, group_per_minute: float, max_retries: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._base = AsyncLimiter(overall_per_second, 1) if overall_per_second else None
        self._group_rate = group_per_minute
        self._groups: dict[int | str, AsyncLimiter] = {}
        self._max_retries = max_retries
        self._clock = clock
        self._resume_at = 0.0  # clock time before which no request is sent

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    @property
    def resume_at(self) -> float:
        """Return the clock time before which no request goes out (in the past when none is held)."""
        return self._resume_at

    def hold(self, seconds: float) -> None:
        """Send nothing for ``seconds`` from now (a later deadline already set is kept)."""
        self._resume_at = max(self._resume_at, self._clock() + seconds)

    async def wait_out(self) -> None:
        """Return once the shared wait has passed (it may grow while we sleep)."""
        # sleeps exactly until the deadline; the loop only re-checks a deadline that moved meanwhile
        while (left := self._resume_at - self._clock()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(left)

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, JSON]], args: Any,
                              kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: int | None) -> JSON:
        """Send one request through the throttles and the shared wait; retry it after a 429."""
        retries = self._max_retries if rate_limit_args is None else rate_limit_args
        chat_id = data.get("chat_id")
        for attempt in range(retries + 1):
            try:
                async with self._group(chat_id), self._chat(chat_id):
                    await self.wait_out()  # after the throttles: a 429 may have come while queued
                    return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = _seconds(exc) + MARGIN
                self.hold(seconds)
                if attempt == retries:
                    logger.warning("Telegram %s: rate limited after %d retries; every send waits %.1f s",
                                   endpoint, retries, seconds)
                    raise
                logger.info("Telegram %s: rate limited; every send waits %.1f s", endpoint, seconds)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _chat(self, chat_id: object) -> contextlib.AbstractAsyncContextManager[Any]:
        return self._base if chat_id is not None and self._base is not None else contextlib.nullcontext()

    def _group(self, chat_id: object) -> contextlib.AbstractAsyncContextManager[Any]:
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)  # type: ignore[call-overload]
        is_group = (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str)
        if not is_group or not self._group_rate:
            return contextlib.nullcontext()
        key: int | str = chat_id  # type: ignore[assignment]
        if key not in self._groups:
            self._groups[key] = AsyncLimiter(self._group_rate, 60)
        return self._groups[key]


def _seconds(exc: RetryAfter) -> float:
    """Return the wait a 429 asks for (PTB keeps it as a timedelta; the public property warns)."""
    wait = getattr(exc, "_retry_after", None)
    if isinstance(wait, timedelta):
        return wait.total_seconds()
    return float(exc.retry_after)  # type: ignore[arg-type]
