"""Bounded exponential backoff with full jitter, for RetryableError only.

Hand-written (about 30 lines) rather than tenacity because it must honour the venue's Retry-After and
take injected sleep/random functions so tests run instantly and deterministically.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from trader.core.errors import RetryableError

logger = logging.getLogger(__name__)
T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry: ``attempts`` calls in total, delays capped at ``max_delay``."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 10.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, error: RetryableError, rand: Callable[[], float] = random.random) -> float:
        """Return seconds to wait before retry number ``attempt`` (1-based): jittered, Retry-After first."""
        if error.retry_after is not None:
            return float(min(error.retry_after, self.max_retry_after))
        return float(rand() * min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


async def call_with_retry(
    operation: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    sleep: Sleep,
    *,
    lookup: Callable[[], Awaitable[T | None]] | None = None,
    what: str = "exchange call",
) -> T:
    """Run ``operation``, retrying RetryableError up to the policy; other errors propagate at once.

    With ``lookup`` (used for order creation), a retryable failure leaves the outcome unknown, so the
    next attempt first runs ``lookup``; its non-None result is returned, and ``operation`` is only
    repeated once the lookup has positively answered None. A failed lookup is itself retried.
    """
    must_look = False
    for attempt in range(1, policy.attempts + 1):
        try:
            if must_look and lookup is not None:
                found = await lookup()
                if found is not None:
                    return found
                must_look = False
            return await operation()
        except RetryableError as error:
            if attempt >= policy.attempts:
                raise
            must_look = lookup is not None
            wait = policy.delay(attempt, error)
            logger.warning("%s failed (%s); retry %d/%d in %.2fs", what, error, attempt,
                           policy.attempts - 1, wait)
            await sleep(wait)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover
