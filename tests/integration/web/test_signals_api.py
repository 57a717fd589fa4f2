"""Webhook signals through real HTTP into the real runtime: accepted through risk, or refused with the
reason (bad signature, stale, replayed, unknown pair, halted), nothing traded, always audited."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.fixtures.live_runtime import ADMIN_ACTOR, MakeRuntime
from tests.integration.web.conftest import ApiHarness, serve
from trader.config import SignalSource, WebConfig
from trader.services.signals import signature

SECRET = "tv-shared-secret"


@pytest.fixture
async def hooks(make_runtime: MakeRuntime) -> AsyncIterator[ApiHarness]:
    """Serve a runtime with one signal source "tv" (strategy "external")."""
    web = WebConfig(signal_sources=(SignalSource(name="tv", secret=SECRET),))
    live = await make_runtime(web=web)
    await live.advance(1)
    async for harness in serve(live):
        yield harness


def _now(api: ApiHarness) -> datetime:
    return api.live.runtime.lifecycle.parts.clock.now()  # the replay's simulated clock


def _body(api: ApiHarness, key: str, **extra: Any) -> dict[str, Any]:
    return {"pair": "BTC/USDT", "side": "buy", "key": key, "timestamp": _now(api).isoformat(), **extra}


async def _send(api: ApiHarness, body: dict[str, Any], *, secret: str | None = SECRET,
                source: str = "tv") -> httpx.Response:
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Signature"] = signature(secret, raw)
    return await api.client.post(f"{api.base}/api/v1/signals/{source}", content=raw, headers=headers)


async def _external(api: ApiHarness) -> list[str]:
    return [p.id for p in await api.live.active() if p.strategy == "external"]


async def _audit(api: ApiHarness) -> list[tuple[str, str]]:
    async with api.live.uow() as uow:
        entries = await uow.audit.recent(100)
    return [(e.action, e.result) for e in reversed(entries) if e.actor == "webhook:tv"]


async def test_a_signed_signal_opens_a_position_through_risk_and_its_outcome_is_answerable(
        hooks: ApiHarness) -> None:
    resp = await _send(hooks, _body(hooks, "k1", confidence=0.8))
    assert resp.status_code == 200, resp.text
    outcome = resp.json()
    assert outcome["outcome"] == "accepted" and outcome["reason"] == ""
    await hooks.live.advance(1)
    opened = await _external(hooks)
    assert opened and opened == outcome["position_ids"]
    asked = await hooks.get("/signals/tv/k1")
    assert asked.status_code == 200 and asked.json()["outcome"] == "accepted"
    assert (await hooks.get("/signals/tv/k1", None)).status_code == 401
    assert (await hooks.get("/signals/tv/nope")).status_code == 404
    assert await _audit(hooks) == [("signal.accepted", "ok")]


async def test_a_token_in_the_body_authenticates_a_tradingview_alert(hooks: ApiHarness) -> None:
    resp = await _send(hooks, _body(hooks, "tv-1", token=SECRET), secret=None)
    assert resp.status_code == 200 and resp.json()["outcome"] == "accepted", resp.text
    wrong = await _send(hooks, _body(hooks, "tv-2", token="guess"), secret=None)
    assert wrong.status_code == 401


async def test_refusals_say_why_trade_nothing_and_are_audited(hooks: ApiHarness) -> None:
    forged = await _send(hooks, _body(hooks, "f1"), secret="not-the-secret")
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "bad_signature"
    unsigned = await _send(hooks, _body(hooks, "f2"), secret=None)
    assert unsigned.status_code == 401
    old = _body(hooks, "s1", timestamp=(_now(hooks) - timedelta(minutes=10)).isoformat())
    stale = await _send(hooks, old)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale"
    unknown = await _send(hooks, _body(hooks, "u1", pair="DOGE/USDT"))
    assert unknown.status_code == 200
    assert unknown.json()["outcome"] == "refused" and "DOGE/USDT" in unknown.json()["reason"]
    again = await _send(hooks, _body(hooks, "u1"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "replayed"
    assert again.json()["previous"]["outcome"] == "refused"
    await hooks.live.runtime.services.control.halt(ADMIN_ACTOR, flatten=False)
    halted = await _send(hooks, _body(hooks, "h1"))
    assert halted.status_code == 200 and halted.json()["outcome"] == "refused"
    assert "halt" in halted.json()["reason"].lower()
    await hooks.live.advance(1)
    assert await _external(hooks) == []
    assert await _audit(hooks) == [
        ("signal.refused", "refused: bad signature"), ("signal.refused", "refused: bad signature"),
        ("signal.refused", "refused: stale"), ("signal.refused", "refused: unknown_pair"),
        ("signal.refused", "refused: replayed"), ("signal.refused", "refused: halted"),
    ]


async def test_malformed_signals_and_unknown_sources_are_clear_4xx(hooks: ApiHarness) -> None:
    for body, words in [({"pair": "BTC/USDT", "side": "hold", "key": "m1", "timestamp": 0}, "body.side"),
                        (_body(hooks, "m2", confidence=3), "body.confidence"),
                        (_body(hooks, "m3", timestamp="2026-01-01T00:00:00"), "timezone"),
                        (_body(hooks, "m4", leverage=10), "body.leverage")]:
        resp = await _send(hooks, body)
        assert resp.status_code == 422, (body, resp.text)
        assert words in resp.json()["error"]["message"]
    assert (await _send(hooks, _body(hooks, "x"), source="nobody")).status_code == 404
    huge = await _send(hooks, _body(hooks, "big", pad="x" * 5000))
    assert huge.status_code == 413
    assert await _external(hooks) == []
