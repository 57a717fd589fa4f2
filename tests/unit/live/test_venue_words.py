"""A venue call that failed, in plain words: the status and its phrase, never the URL it was sent to."""

from __future__ import annotations

from trader.core.errors import ExchangeUnavailable, InsufficientFunds, RateLimited, RetryableError
from trader.live.venue_words import unanswered, venue_name


def test_a_server_error_is_named_by_its_status_without_the_signed_url() -> None:
    error = ExchangeUnavailable("ExchangeNotAvailable: binance GET http://127.0.0.1:45123/api/v3/order?"
                                "signature=abc123&timestamp=1700000000000 503 Service Unavailable <html>")
    text = unanswered("binance", error)
    assert text == "binance did not answer (HTTP 503 Service Unavailable)"
    assert "signature" not in text and "127.0.0.1" not in text


def test_timeouts_rate_limits_and_dead_connections_read_plainly() -> None:
    assert unanswered("okx", RetryableError("RequestTimeout: okx GET https://x/y request timed out (1 s)")) \
        == "okx did not answer (no answer within the timeout)"
    assert unanswered("okx", RateLimited("DDoSProtection: 10006", retry_after=2)) \
        == "okx did not answer (rate limit reached; it asks to wait 2s)"
    assert unanswered("kraken", RetryableError("NetworkError: Cannot connect to host")) \
        == "kraken did not answer (the connection failed)"


def test_a_refusal_is_the_venue_answering_and_the_name_falls_back() -> None:
    refused = InsufficientFunds("x", user_message="Not enough balance on the exchange for this order.")
    said = unanswered("binance", refused)
    assert said == "binance refused: Not enough balance on the exchange for this order."
    assert venue_name(object()) == "the exchange"
