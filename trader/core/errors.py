"""Exception taxonomy: each class says who handles it and how.

Risk refusals are values (``Refused``), not exceptions. ``user_message`` is always safe to show a user;
``str(exc)`` is for logs and may carry more detail (never secrets).
"""

from __future__ import annotations


class TraderError(Exception):
    """Base of every error we raise on purpose."""

    def __init__(self, message: str, *, user_message: str | None = None) -> None:
        super().__init__(message)
        self.user_message = user_message or message


class ConfigError(TraderError):
    """Invalid configuration at start-up: one line per problem; the CLI exits with code 2."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems))


class InputError(TraderError):
    """Bad user input (command argument, CSV row): say what and where, change nothing."""


class ArgError(InputError):
    """A bad Telegram or CLI argument; carries the usage line to show."""

    def __init__(self, message: str, usage: str = "") -> None:
        self.usage = usage
        text = f"{message}\nUsage: {usage}" if usage else message
        super().__init__(message, user_message=text)


class DataError(TraderError):
    """Missing or inconsistent data (unknown pair, gap, missing AUD rate): names the date and asset."""


class ExchangeError(TraderError):
    """Any failure talking to a venue, already mapped from the vendor's exception."""


class RetryableError(ExchangeError):
    """Transient: network, timeout, rate limit, venue briefly down. Only the retry wrapper retries it."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message, user_message="The exchange is not answering right now; will retry.")
        self.retry_after = retry_after


class RateLimited(RetryableError):
    """HTTP 429 or the venue's rate-limit code; ``retry_after`` in seconds when the venue says."""


class ExchangeUnavailable(RetryableError):
    """Venue down or in maintenance (5xx)."""


class InsufficientFunds(ExchangeError):
    """Not retried; the order is rejected with the reason."""


class InvalidOrder(ExchangeError):
    """Not retried; a precision or parameter bug: logged loudly."""


class OrderNotFound(ExchangeError):
    """The venue does not know the order (id or client id)."""


class AuthError(ExchangeError):
    """Bad or missing credentials: stop trading and alert the admin."""


class StoreError(TraderError):
    """The database failed; the unit of work was rolled back."""


class StrategyError(TraderError):
    """Plugin strategy code raised or returned bad data; the strategy is skipped for that tick."""


class SecretError(TraderError):
    """The secret store cannot decrypt (wrong or missing key) or a secret is missing."""


class NotifyError(TraderError):
    """A channel could not deliver an alert; the alert outbox retries it later."""


class InvariantViolation(TraderError):
    """A programming error such as an illegal state transition: crash; restart reconciles."""
