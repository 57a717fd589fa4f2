"""Map ccxt exceptions to our taxonomy: the only module that names ccxt's error classes.

Order of checks matters because ccxt's classes overlap (RateLimitExceeded is a NetworkError,
OrderNotFound is an InvalidOrder, AccountSuspended an AuthenticationError).
"""

from __future__ import annotations

import ccxt.async_support as ccxt

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

_DUPLICATE_MARKERS = ("duplicate order", "duplicate client", "duplicateclientorderid", "clordid already",
                      "orderlinkedid is duplicate")  # Bybit 110072


class DuplicateOrder(InvalidOrder):
    """The venue already has an order with this client order id: look it up instead of re-sending."""


def is_duplicate_message(message: str) -> bool:
    """Return True when a venue message says the client order id is already used."""
    text = message.lower()
    return any(marker in text for marker in _DUPLICATE_MARKERS)


def map_error(exc: BaseException, *, retry_after: float | None = None) -> ExchangeError:
    """Return our ExchangeError for a ccxt (or transport) exception; ``retry_after`` in seconds."""
    message = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ExchangeError):
        return exc
    if isinstance(exc, ccxt.DuplicateOrderId) or (
        isinstance(exc, ccxt.InvalidOrder) and is_duplicate_message(str(exc))
    ):
        return DuplicateOrder(message)
    if isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
        return RateLimited(message, retry_after=retry_after)
    if isinstance(exc, ccxt.ExchangeNotAvailable):
        return ExchangeUnavailable(message, retry_after=retry_after)
    if isinstance(exc, ccxt.InvalidNonce | ccxt.NetworkError | TimeoutError | ConnectionError):
        return RetryableError(message, retry_after=retry_after)
    return _map_non_retryable(exc, message)


def _map_non_retryable(exc: BaseException, message: str) -> ExchangeError:
    if isinstance(exc, ccxt.OrderNotFound):
        return OrderNotFound(message)
    if isinstance(exc, ccxt.InsufficientFunds):
        return InsufficientFunds(message, user_message="Not enough balance on the exchange for this order.")
    if isinstance(exc, ccxt.AuthenticationError):
        return AuthError(message, user_message="The exchange refused our API key; trading is stopped.")
    if isinstance(exc, ccxt.InvalidOrder | ccxt.BadRequest | ccxt.BadSymbol):
        return InvalidOrder(message, user_message="The exchange rejected the order as invalid.")
    return ExchangeError(message, user_message="The exchange reported an error.")
