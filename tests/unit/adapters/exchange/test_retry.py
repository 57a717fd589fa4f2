"""Bounded exponential backoff with jitter; retryable errors only; lookup before re-creating."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trader.adapters.exchange.retry import RetryPolicy, call_with_retry
from trader.core.errors import InvalidOrder, RateLimited, RetryableError


class Script:
    """An operation that raises the scripted errors in turn, then returns 'ok'."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


async def _no_sleep(seconds: float, log: list[float] | None = None) -> None:
    if log is not None:
        log.append(seconds)


async def test_retryable_errors_are_retried_until_success() -> None:
    op = Script(RetryableError("net"), RateLimited("429", retry_after=2.5))
    waits: list[float] = []
    result = await call_with_retry(op, RetryPolicy(attempts=3), lambda s: _no_sleep(s, waits))
    assert (result, op.calls) == ("ok", 3)
    assert waits[1] == 2.5  # the venue's Retry-After wins over the backoff


async def test_non_retryable_error_propagates_at_once() -> None:
    op = Script(InvalidOrder("bad"))
    with pytest.raises(InvalidOrder):
        await call_with_retry(op, RetryPolicy(attempts=5), _no_sleep)
    assert op.calls == 1


async def test_gives_up_after_the_attempt_budget() -> None:
    op = Script(*[RetryableError("net")] * 10)
    with pytest.raises(RetryableError):
        await call_with_retry(op, RetryPolicy(attempts=4), _no_sleep)
    assert op.calls == 4


async def test_lookup_result_is_returned_instead_of_repeating() -> None:
    op = Script(RetryableError("timeout"))
    lookups: list[str] = []

    async def lookup() -> str | None:
        lookups.append("looked")
        return "found"

    assert await call_with_retry(op, RetryPolicy(), _no_sleep, lookup=lookup) == "found"
    assert (op.calls, lookups) == (1, ["looked"])


async def test_failed_lookup_is_retried_before_the_operation_is_repeated() -> None:
    op = Script(RetryableError("timeout"))
    answers: list[Exception | None] = [RetryableError("lookup down"), None]

    async def lookup() -> str | None:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return None

    assert await call_with_retry(op, RetryPolicy(attempts=4), _no_sleep, lookup=lookup) == "ok"
    assert op.calls == 2
    assert answers == []


@given(attempt=st.integers(1, 30), roll=st.floats(0, 1))
def test_backoff_is_bounded_and_non_negative(attempt: int, roll: float) -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=10.0)
    delay = policy.delay(attempt, RetryableError("x"), rand=lambda: roll)
    assert 0 <= delay <= 10.0
    assert policy.delay(1, RateLimited("x", retry_after=999), rand=lambda: roll) == policy.max_retry_after
