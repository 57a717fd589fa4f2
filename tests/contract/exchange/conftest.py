"""One parametrised ``venue`` fixture: every contract test runs on both exchange implementations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.exchange.venues import FakeServerDriver, PaperDriver, VenueDriver
from tests.fakes.fake_exchange import FakeExchange


@pytest.fixture(params=["ccxt-fake", "paper"])
def venue(request: pytest.FixtureRequest) -> Iterator[VenueDriver]:
    """Yield a driver for the CcxtExchange→fake server or the PaperExchange implementation."""
    if request.param == "paper":
        driver: VenueDriver = PaperDriver()
    else:
        fake: FakeExchange = request.getfixturevalue("fake_exchange")
        driver = FakeServerDriver(fake, request.getfixturevalue("ccxt_exchange"))
    yield driver
