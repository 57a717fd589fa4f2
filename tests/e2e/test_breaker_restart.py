"""A restart during an outage, under the real service: the breaker comes back from the store.

The venue stops answering, the breaker opens and says "venue down" once; the service stops. A new
runtime over the same database restores the breaker before any venue call: still down since the same
moment, entries still refused. When the venue answers again exactly one "venue back" arrives, and the
outbox never held a second "venue down".
"""

from __future__ import annotations

import io
import json
import sqlite3
import time
from pathlib import Path

import pytest

from tests.e2e.test_venue_breaker import DOWN_TEXT, Chat, _kinds, _service, _settings, _until
from tests.fakes.fake_botapi import FakeBotApiCore
from tests.fakes.fake_exchange import FakeExchange, Fault, FaultKind
from trader.config import ExchangeConfig
from trader.core.risk.breaker import BreakerState
from trader.live.venue_breaker import BACK_KIND, DOWN_KIND, VenueBreaker
from trader.runtime.container import RunOptions, build_runtime

pytestmark = pytest.mark.slow


async def test_an_outage_goes_on_across_a_restart_one_down_and_one_back_alert(
        tmp_path: Path, fake_exchange: FakeExchange, fake_exchange_config: ExchangeConfig,
        fake_botapi: FakeBotApiCore) -> None:
    fake_exchange.venue.now_ms = int(time.time() * 1000)
    settings = _settings(tmp_path, fake_exchange_config)
    runtime = await build_runtime(settings, RunOptions(console=io.StringIO()))
    chat = Chat(fake_botapi)
    async with _service(runtime, fake_botapi):
        fake_exchange.inject(Fault(FaultKind.SERVER_ERROR, times=10**6))
        await _until("the venue-down alert", lambda: chat.count(DOWN_TEXT) == 1)
        first = runtime.lifecycle.parts.breaker
        assert isinstance(first, VenueBreaker)
        await _until("the breaker saved", lambda: _saved_down(tmp_path))
        down_since = first.state.down_since

    again = await build_runtime(settings, RunOptions(console=io.StringIO()))
    breaker = again.lifecycle.parts.breaker
    assert isinstance(breaker, VenueBreaker)
    assert breaker.state.state is not BreakerState.CLOSED and breaker.state.down_since == down_since
    assert breaker.entry_gate().startswith("venue binance is down since")  # before any venue call
    fake_exchange.faults.clear()  # the venue answers again
    async with _service(again, fake_botapi):
        await _until("the breaker closed", lambda: breaker.state.state is BreakerState.CLOSED)
        await _until("the venue-back alert queued",
                     lambda: _kinds(tmp_path / "outage.db").count(BACK_KIND) == 1)
    kinds = _kinds(tmp_path / "outage.db")
    assert kinds.count(DOWN_KIND) == 1 and kinds.count(BACK_KIND) == 1, kinds


def _saved_down(tmp_path: Path) -> bool:
    """Return True once the store holds the breaker as not closed (the document the restart reads)."""
    with sqlite3.connect(tmp_path / "outage.db") as conn:
        rows = conn.execute("SELECT data FROM paper_state WHERE key = 'breaker:binance'").fetchall()
    return bool(rows) and json.loads(rows[0][0])["breaker"]["state"] != "closed"
