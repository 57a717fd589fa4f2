"""Read API through real HTTP against the real runtime: every endpoint, roles, bad tokens, bad parameters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.fixtures.live_runtime import MakeRuntime
from tests.integration.web.conftest import ApiHarness, serve
from tests.unit.core.engine.test_step_pairs import open_group
from trader.config import ExchangeConfig
from trader.core.engine.memory import EngineMemory
from trader.services.dto import Role

VIEWER_PATHS = ["/status", "/positions", "/balance", "/health", "/locks", "/trades", "/performance/pairs",
                "/performance/strategies", "/performance/periods/day", "/kpis", "/equity",
                "/candles?pair=BTC/USDT", "/backtests", "/jobs", "/pair-groups"]


@pytest.fixture
async def one_pair_api(make_runtime: MakeRuntime) -> AsyncIterator[ApiHarness]:
    """Serve a breakout replay of BTC/USDT alone: exactly one position to follow through the API."""
    live = await make_runtime(exchange=ExchangeConfig(replay=True, pairs=("BTC/USDT",)))
    async for harness in serve(live):
        yield harness


def _error(body: dict[str, object]) -> dict[str, object]:
    error = body["error"]
    assert isinstance(error, dict)
    return error


async def test_every_endpoint_refuses_a_missing_or_unknown_token(api: ApiHarness) -> None:
    for path in [*VIEWER_PATHS, "/audit"]:
        url = f"{api.base}/api/v1{path}"
        missing = await api.client.get(url)
        assert missing.status_code == 401, path
        assert missing.headers["WWW-Authenticate"] == "Bearer"
        assert _error(missing.json())["code"] == "unauthorized"
        forged = await api.client.get(url, headers={"Authorization": "Bearer tb_forged"})
        assert forged.status_code == 401, path
        basic = await api.client.get(url, headers={"Authorization": "Basic dXNlcjpwdw=="})
        assert basic.status_code == 401, path


async def test_every_role_reads_every_viewer_endpoint(api: ApiHarness) -> None:
    for path in VIEWER_PATHS:
        for role in Role:
            resp = await api.client.get(f"{api.base}/api/v1{path}", headers=api.headers(role))
            assert resp.status_code == 200, (path, role, resp.text)


async def test_audit_log_is_for_admins_only(api: ApiHarness) -> None:
    for role in (Role.VIEWER, Role.TRADER):
        resp = await api.get("/audit", role)
        assert resp.status_code == 403
        assert "admin" in str(_error(resp.json())["message"])
    resp = await api.get("/audit", Role.ADMIN, action="api.token")
    assert resp.status_code == 200
    assert {e["detail"] for e in resp.json()} >= {"test-admin role=admin", "test-viewer role=viewer"}


async def test_a_revoked_token_is_refused(api: ApiHarness) -> None:
    from trader.runtime.clock import SystemClock
    from trader.services.api_tokens import ApiTokenService
    from trader.services.audit import AuditService

    clock = SystemClock()
    service = ApiTokenService(api.live.uow, clock, AuditService(api.live.uow, clock))
    assert (await api.get("/status", Role.TRADER)).status_code == 200
    assert await service.revoke("test-trader", "test")
    assert (await api.get("/status", Role.TRADER)).status_code == 401


async def test_status_positions_balance_and_trades_show_the_runtime_state(one_pair_api: ApiHarness) -> None:
    api = one_pair_api
    position = await api.live.open_position()
    status = (await api.get("/status")).json()
    assert status["state"] == "active"
    assert [p["id"] for p in status["positions"]] == [position.id]
    assert Decimal(status["positions"][0]["amount"]) == position.open_amount  # money is an exact string
    views = await api.live.runtime.services.queries.positions()
    assert (await api.get("/positions")).json()[0]["entry_price"] == str(views[0].entry_price)
    balance = (await api.get("/balance")).json()
    assert balance["quote"] == "USDT" and Decimal(balance["equity"]) > 0
    await api.live.runtime.services.control.close(position.id, _admin())
    await api.live.advance(2)
    trades = (await api.get("/trades", pair=position.symbol)).json()
    assert trades["total"] == 1 and trades["page"] == 1 and trades["pages"] == 1
    assert trades["trades"][0]["id"] == position.id
    assert (await api.get("/trades", pair="ETH/USDT" if position.symbol != "ETH/USDT" else "BTC/USDT",
                          )).json()["total"] == 0
    assert (await api.get("/trades", strategy="nope")).json()["total"] == 0
    assert (await api.get("/trades", side="short")).json()["total"] == 0
    assert (await api.get("/trades", side="long", since="2000-01-01T00:00:00Z")).json()["total"] == 1
    assert (await api.get("/trades", until="2000-01-01T00:00:00Z")).json()["total"] == 0
    kpis = (await api.get("/kpis")).json()
    assert kpis["trades"] == 1
    by_strategy = (await api.get("/performance/strategies")).json()
    assert [(r["key"], r["trades"]) for r in by_strategy] == [("breakout", 1)]


def _admin() -> object:
    from tests.fixtures.live_runtime import ADMIN_ACTOR
    return ADMIN_ACTOR


async def test_candles_come_with_the_requested_indicator_columns(api: ApiHarness) -> None:
    resp = await api.get("/candles", pair="BTC/USDT", timeframe="1h", limit=50,
                         indicators="sma_20,rsi_14,bollinger_20")
    assert resp.status_code == 200
    body = resp.json()
    assert len(body["time"]) == len(body["close"]) == 50
    assert set(body["indicators"]) == {"sma_20", "rsi_14", "bollinger_20_upper", "bollinger_20_middle",
                                       "bollinger_20_lower"}
    now_ms = api.live.runtime.lifecycle.parts.clock.now().timestamp() * 1000
    assert body["time"][-1] < now_ms  # nothing from the replay's future
    sma = body["indicators"]["sma_20"]
    assert sma[-1] == pytest.approx(sum(body["close"][-20:]) / 20)  # warmed up from earlier candles


BAD_PARAMETERS = [
    ("/trades", {"page": "0"}, 422, "query.page"),
    ("/trades", {"page_size": "501"}, 422, "query.page_size"),
    ("/trades", {"side": "sideways"}, 422, "query.side"),
    ("/trades", {"outcome": "maybe"}, 422, "query.outcome"),
    ("/trades", {"since": "yesterday"}, 422, "query.since"),
    ("/trades", {"since": "2026-01-01T00:00:00"}, 422, "timezone"),
    ("/performance/periods/year", {}, 422, "path.kind"),
    ("/kpis", {"days": "-1"}, 422, "query.days"),
    ("/candles", {}, 422, "query.pair"),
    ("/candles", {"pair": "BTC/USDT", "indicators": "magic_3"}, 400, "Unknown indicator"),
    ("/candles", {"pair": "BTC/USDT", "timeframe": "7x"}, 400, "timeframe"),
    ("/candles", {"pair": "DOGE/USDT"}, 404, "No stored"),
    ("/nowhere", {}, 404, "Not Found"),
]


async def test_bad_parameters_get_a_clear_json_error(api: ApiHarness) -> None:
    for path, params, status, words in BAD_PARAMETERS:
        resp = await api.get(path, **params)
        assert resp.status_code == status, (path, params, resp.text)
        error = _error(resp.json())
        assert error["status"] == status
        assert words in str(error["message"]), (path, params, error)
        assert "Traceback" not in resp.text


async def test_openapi_docs_are_served(api: ApiHarness) -> None:
    spec = (await api.client.get(f"{api.base}/api/openapi.json")).json()
    assert "/api/v1/trades" in spec["paths"] and "/health" in spec["paths"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    docs = await api.client.get(f"{api.base}/api/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_pair_groups_are_read_leg_by_leg_with_their_total(api: ApiHarness) -> None:
    group = open_group()
    async with api.live.uow() as uow:  # an open group as the engine keeps it in its memory document
        memory = await uow.engine.get() or EngineMemory()
        await uow.engine.save(replace(memory, groups={group.id: group}), datetime(2024, 1, 1, tzinfo=UTC))
        await uow.commit()
    assert (await api.get("/pair-groups")).json()[0]["id"] == group.id
    [view] = await api.live.runtime.services.queries.pair_groups()
    [body] = (await api.get("/pair-groups")).json()
    assert (body["status"], body["spread"], Decimal(body["pnl"])) == (view.status, view.spread, view.pnl)
    shown = [(leg["pair"], leg["side"], Decimal(leg["amount"]), Decimal(leg["pnl"])) for leg in body["legs"]]
    assert shown == [(leg.pair, leg.side.value, leg.amount, leg.pnl) for leg in view.legs]
    assert view.pnl == view.legs[0].pnl + view.legs[1].pnl
