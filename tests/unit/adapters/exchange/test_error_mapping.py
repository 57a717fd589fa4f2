"""ccxt exceptions map to our taxonomy; duplicates are recognised; only transient ones are retryable."""

from __future__ import annotations

import ccxt
import pytest

from trader.adapters.exchange.errors import DuplicateOrder, map_error
from trader.core.errors import (
    AuthError,
    ExchangeError,
    ExchangeUnavailable,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
    RateLimited,
    RetryableError,
)


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (ccxt.RateLimitExceeded("x"), RateLimited),
        (ccxt.DDoSProtection("x"), RateLimited),
        (ccxt.ExchangeNotAvailable("x"), ExchangeUnavailable),
        (ccxt.OnMaintenance("x"), ExchangeUnavailable),
        (ccxt.RequestTimeout("x"), RetryableError),
        (ccxt.NetworkError("x"), RetryableError),
        (TimeoutError("x"), RetryableError),
        (ccxt.InsufficientFunds("x"), InsufficientFunds),
        (ccxt.OrderNotFound("x"), OrderNotFound),
        (ccxt.InvalidOrder("x"), InvalidOrder),
        (ccxt.BadRequest("x"), InvalidOrder),
        (ccxt.AuthenticationError("x"), AuthError),
        (ccxt.PermissionDenied("x"), AuthError),
        (ccxt.DuplicateOrderId("x"), DuplicateOrder),
        (ccxt.InvalidOrder('binance {"code":-2010,"msg":"Duplicate order sent."}'), DuplicateOrder),
        (ccxt.InvalidOrder('bybit {"retCode":110072,"retMsg":"OrderLinkedID is duplicate"}'), DuplicateOrder),
        (ccxt.ExchangeError("x"), ExchangeError),
    ],
)
def test_ccxt_error_maps_to_our_class(raised: Exception, expected: type[ExchangeError]) -> None:
    mapped = map_error(raised)
    assert type(mapped) is expected
    assert mapped.user_message


def test_retry_after_is_carried_on_rate_limit() -> None:
    mapped = map_error(ccxt.RateLimitExceeded("x"), retry_after=3.0)
    assert isinstance(mapped, RateLimited) and mapped.retry_after == 3.0


def test_only_transient_errors_are_retryable() -> None:
    for cls in (InsufficientFunds, InvalidOrder, OrderNotFound, AuthError, DuplicateOrder):
        assert not issubclass(cls, RetryableError)
