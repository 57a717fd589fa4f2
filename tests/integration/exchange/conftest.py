"""Fake venues shared by the exchange adapter tests of several dialects."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.fakes.fake_exchange import FakeExchange
from tests.fixtures.fake_exchange import running_fake

BYBIT_NOW = datetime(2023, 10, 31, tzinfo=UTC)  # the bybit tests' EPOCH, 2023-10-01, and 30 days


@pytest.fixture
def bybit_fake() -> Iterator[FakeExchange]:
    """A fake Bybit venue with 10,000 USDT in its unified wallet, its clock at ``BYBIT_NOW``."""
    with running_fake("bybit") as fake:
        fake.perps.deposit("10000")
        fake.venue.now_ms = int(BYBIT_NOW.timestamp() * 1000)
        yield fake


@pytest.fixture
def bybit_spot() -> Iterator[FakeExchange]:
    """A fake Bybit venue with 10,000 USDT in its spot account."""
    with running_fake("bybit") as fake:
        fake.venue.deposit("USDT", "10000")
        yield fake
