"""Start-up against a venue that may be briefly down: bounded backoff instead of exiting.

``VenueStartup.open`` runs the start-up work that needs the venue (a signed probe, then
reconciliation) once; when the venue does not answer (``RetryableError``) the lifecycle calls
``wait`` in the background, which retries with exponential backoff capped at ``Backoff.cap`` seconds,
logs every attempt and publishes a "waiting for the venue" line on the ``VenueWatch`` that /ready
shows. Any other error (bad keys, a broken invariant) is not waited out: it propagates.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from trader.core.errors import RetryableError
from trader.live.venue_watch import VenueWatch

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Seconds between start-up attempts: ``first`` doubling up to ``cap``."""

    first: float = 1.0
    cap: float = 60.0

    def delay(self, attempt: int) -> float:
        """Return the wait after the ``attempt``-th failed attempt (1-based)."""
        return float(min(self.cap, self.first * 2 ** max(attempt - 1, 0)))


class VenueStartup:
    """Run ``work`` until the venue answers; ``attempts`` counts the tries so far."""

    def __init__(self, work: Callable[[], Awaitable[object]], watch: VenueWatch, backoff: Backoff,
                 *, sleep: Sleep = asyncio.sleep, now: Callable[[], float] = time.monotonic) -> None:
        self._work = work
        self._watch = watch
        self._backoff = backoff
        self._sleep = sleep
        self._now = now
        self._since = now()
        self.attempts = 0

    async def open(self) -> bool:
        """Make one attempt; return True when the venue answered and the work is done."""
        self.attempts += 1
        try:
            await self._work()
        except RetryableError as exc:
            self._note(exc)
            return False
        self._watch.waiting("")
        if self.attempts > 1:
            logger.info("the venue answered after %d attempt(s) in %.0fs: start-up continues", self.attempts,
                        self._now() - self._since)
        return True

    async def wait(self) -> None:
        """Retry with backoff until an attempt succeeds; errors other than RetryableError propagate."""
        while not await self._after_pause():
            pass

    async def _after_pause(self) -> bool:
        await self._sleep(self._backoff.delay(self.attempts))
        return await self.open()

    def _note(self, exc: RetryableError) -> None:
        waited = self._now() - self._since
        pause = self._backoff.delay(self.attempts)
        # The /ready line names the error type only (messages may carry hosts); the log has the text.
        self._watch.waiting(f"waiting for the venue for {waited:.0f}s: attempt {self.attempts} failed "
                            f"({type(exc).__name__}); next attempt in {pause:.0f}s")
        logger.warning("the venue did not answer at start-up (attempt %d, %.0fs so far): %s; retrying in "
                       "%.0fs (reconciliation and the protection monitor start once it answers)",
                       self.attempts, waited, exc, pause)
