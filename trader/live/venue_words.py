"""A venue call that failed, in plain words: what a trader reads instead of a traceback or "error".

Only the HTTP status (and its standard phrase), the rate limit or the timeout are taken from the error:
its text can hold URLs with signed query strings, which never reach a chat or an API answer.
"""

from __future__ import annotations

import re
from http import HTTPStatus

from trader.core.errors import ExchangeError, RateLimited, RetryableError

_STATUS = re.compile(r"(?<![\d.:/])([45]\d\d)(?![\d.])")
_CODES = {s.value for s in HTTPStatus}


def venue_name(exchange: object) -> str:
    """Return the venue's name as the trader knows it (``CcxtExchange.venue``), else "the exchange"."""
    name = getattr(exchange, "venue", None)
    return name if isinstance(name, str) and name else "the exchange"


def unanswered(venue: str, error: ExchangeError) -> str:
    """Return e.g. "binance did not answer (HTTP 503 Service Unavailable)"; a refusal's own words."""
    if not isinstance(error, RetryableError):  # the venue answered, with a refusal: its message says why
        return f"{venue} refused: {error.user_message}"
    return f"{venue} did not answer ({_why(error)})"


def _why(error: RetryableError) -> str:
    if isinstance(error, RateLimited):
        after = f"; it asks to wait {error.retry_after:g}s" if error.retry_after else ""
        return f"rate limit reached{after}"
    text = str(error)
    match = _STATUS.search(text)
    if match is not None and int(match.group(1)) in _CODES:
        code = int(match.group(1))
        return f"HTTP {code} {HTTPStatus(code).phrase}"
    if "timed out" in text.lower() or "timeout" in text.lower():
        return "no answer within the timeout"
    return "the connection failed"
