"""Requests during an outage, under the real service (container, lifecycle, scheduler, ccxt against the
fake Binance venue, PTB against the fake Bot API, the REST API over real HTTP).

With the venue answering nothing but 503s: a webhook signal is refused with the venue's error in plain
words (the receipt says so too, so asking again tells the same), /close (Telegram) and POST /close (REST)
answer that the venue did not answer and that the close is kept and retried; no traceback, no generic
"error". When the venue answers again the kept close goes through by itself (the protection monitor,
backed off by the breaker meanwhile) and the position closes once.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_venue_breaker import CONFIRM, Chat, _service, _settings, _until
from tests.fakes.fake_botapi import FakeBotApiCore
from tests.fakes.fake_exchange import FakeExchange, Fault, FaultKind
from trader.adapters.store.sql.uow import Database
from trader.config import ExchangeConfig, SignalSource, WebConfig
from trader.core.domain.enums import ExitReason
from trader.runtime.clock import SystemClock
from trader.runtime.container import RunOptions, build_runtime
from trader.services.api_tokens import ApiTokenService
from trader.services.audit import AuditService
from trader.services.dto import Role
from trader.services.signals import signature

pytestmark = pytest.mark.slow

SECRET = "tv-outage-secret"
PLAIN = "binance did not answer ("  # then the cause: "HTTP 503 Service Unavailable", "the connection failed"


async def _signal(http: httpx.AsyncClient, base: str, key: str, side: str) -> httpx.Response:
    body = {"pair": "BTC/USDT", "side": side, "key": key, "timestamp": SystemClock().now().isoformat()}
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "X-Signature": signature(SECRET, raw)}
    return await http.post(f"{base}/api/v1/signals/tv", content=raw, headers=headers)


async def test_signals_and_closes_during_an_outage_fail_in_plain_words_and_the_close_is_retried(
        tmp_path: Path, fake_exchange: FakeExchange, fake_exchange_config: ExchangeConfig,
        fake_botapi: FakeBotApiCore) -> None:
    fake_exchange.venue.now_ms = int(time.time() * 1000)  # the live engine runs on the system clock
    settings = _settings(tmp_path, fake_exchange_config).model_copy(
        update={"web": WebConfig(signal_sources=(SignalSource(name="tv", secret=SECRET),))})
    runtime = await build_runtime(settings, RunOptions(console=io.StringIO()))
    chat = Chat(fake_botapi)
    db = Database.from_url(settings.database.url)
    clock = SystemClock()
    tokens = ApiTokenService(db.uow, clock, AuditService(db.uow, clock))
    try:
        async with _service(runtime, fake_botapi) as port, httpx.AsyncClient(timeout=15) as http:
            base = f"http://127.0.0.1:{port}"
            trader = {"Authorization": f"Bearer {(await tokens.create('outage', Role.TRADER, 't')).token}"}
            bought = await chat.ask("/buy BTC/USDT 0.01", CONFIRM)
            await chat.press(bought, CONFIRM, "Buying")
            trading = runtime.lifecycle.parts.engine.trading
            await _until("the position open", lambda: _open(trading))
            [position_id] = (await trading.engine_state()).positions

            fake_exchange.inject(Fault(FaultKind.SERVER_ERROR, times=10**6))  # the venue answers 503 only
            sell = await _signal(http, base, "out-1", "sell")  # an exit signal: not gated by the breaker
            assert sell.status_code == 200, sell.text
            outcome = sell.json()
            assert outcome["outcome"] == "refused" and outcome["reason"].startswith(PLAIN), outcome
            assert "not acted on" in outcome["reason"] and "Traceback" not in sell.text
            asked = await http.get(f"{base}/api/v1/signals/tv/out-1", headers=trader)
            assert asked.json()["reason"] == outcome["reason"]

            question = await chat.ask(f"/close {position_id}", CONFIRM)
            answer = await chat.press(question, CONFIRM, "did not answer")
            assert PLAIN in answer.shown and "retried" in answer.shown, answer.shown
            assert "Traceback" not in answer.shown and "went wrong" not in answer.shown.lower()
            rest = await http.post(f"{base}/api/v1/control/close", json={"target": position_id},
                                   headers=trader)
            assert rest.status_code == 200, rest.text
            assert rest.json()["ok"] is False and rest.json()["message"].startswith(PLAIN), rest.json()
            assert position_id in (await trading.engine_state()).positions  # nothing sent yet

            buy = await _signal(http, base, "out-2", "buy")  # an entry: refused, plainly, whichever gate
            reason = buy.json()["reason"]
            assert buy.json()["outcome"] == "refused", reason
            assert reason.startswith(PLAIN) or "venue binance is down since" in reason, reason

            fake_exchange.faults.clear()  # the venue answers again: the kept close goes through by itself
            await _until("the position closed", lambda: _closed(trading), within=30)
        async with db.uow() as uow:
            [closed] = await uow.positions.finished(limit=10)
        assert closed.id == position_id and closed.exit_reason is ExitReason.MANUAL
        exits = [e for e in fake_exchange.venue.accepted() if e.detail.get("side") == "SELL"
                 and e.detail.get("type") == "MARKET"]
        assert len(exits) == 1  # the close was sent once, however many times it was asked for
    finally:
        await db.dispose()


async def _open(trading: object) -> bool:
    state = await trading.engine_state()  # type: ignore[attr-defined]
    return any(p.status.value == "open" for p in state.positions.values())


async def _closed(trading: object) -> bool:
    return not (await trading.engine_state()).positions  # type: ignore[attr-defined]
