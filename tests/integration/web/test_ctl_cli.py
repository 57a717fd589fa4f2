"""`tradebot ctl` as a separate process against the served runtime: status, pause/resume, halt, close,
buy with its preview, a wrong token and an unreachable service."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fixtures.live_runtime import MakeRuntime
from tests.integration.web.conftest import ApiHarness, serve
from trader.config import RiskConfig
from trader.core.domain.enums import TradingState
from trader.core.positions.state import PositionStatus
from trader.core.risk.state import RiskState
from trader.services.dto import Role

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
async def api(make_runtime: MakeRuntime) -> AsyncIterator[ApiHarness]:
    """Serve a breakout replay whose risk allows a second position on a pair: the replay may hold both
    pairs by the time the manual buy is sent."""
    live = await make_runtime(risk=RiskConfig(max_positions_per_pair=2))
    async for harness in serve(live):
        yield harness


async def _ctl(api: ApiHarness, *args: str, token: str | None = None, url: str | None = None,
               stdin: bytes = b"") -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRADER_API_TOKEN": token or api.tokens[Role.TRADER]}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "trader", "ctl", "--url", url or api.base, *args, env=env, cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(stdin), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def _state(api: ApiHarness) -> TradingState:
    async with api.live.uow() as uow:
        return (await uow.risk.get() or RiskState()).trading_state


async def test_ctl_controls_the_running_service(api: ApiHarness) -> None:
    position = await api.live.open_position()
    code, out, _ = await _ctl(api, "status")
    assert code == 0 and "trading active" in out and position.id in out
    row = next(line for line in out.splitlines() if position.id in line)
    # amounts, prices and money as a person reads them, never the API's 18-place decimal strings
    assert not re.search(r"\d\.\d{9,}", row), row
    assert re.search(r" PnL [+-]?[\d,]+\.\d\d USDT  stop ", row), row
    assert (await _ctl(api, "pause"))[0] == 0
    assert await _state(api) is TradingState.PAUSED
    code, _, err = await _ctl(api, "pause")
    assert code == 1 and "refused: trading is already paused" in err
    assert (await _ctl(api, "resume"))[0] == 0
    code, out, err = await _ctl(api, "close", position.id)  # no terminal, no --yes: shown, not sent
    assert code == 1 and f"would close {position.id}" in out and "--yes" in err
    code, out, _ = await _ctl(api, "close", position.id, "--yes")
    assert code == 0, out
    await api.live.advance(1)
    async with api.live.uow() as uow:
        closed = await uow.positions.get(position.id)
    assert closed is not None and closed.status is PositionStatus.CLOSED
    other = "BTC/USDT" if position.symbol == "ETH/USDT" else "ETH/USDT"  # the closed pair cools down
    code, out, err = await _ctl(api, "buy", other, "0.01", "--yes")
    assert code == 0 and f"would buy 0.01 {other}" in out, out + err
    assert re.search(r"\(cost [\d,]+\.\d\d USDT, stop ", out) and not re.search(r"\d\.\d{9,}", out), out
    await api.live.advance(1)
    assert [p for p in await api.live.active() if p.strategy == "manual"]
    assert (await _ctl(api, "halt", "--flatten"))[0] == 0
    assert await _state(api) is TradingState.HALTED
    async with api.live.uow() as uow:
        actors = {e.actor for e in await uow.audit.recent(100) if e.action.startswith("control.")}
    assert actors == {"api:test-trader"}


async def test_ctl_says_why_it_cannot_act(api: ApiHarness) -> None:
    code, _, err = await _ctl(api, "pause", token=api.tokens[Role.VIEWER])
    assert code == 1 and "403" in err and "trader role" in err
    code, _, err = await _ctl(api, "status", token="tb_wrong")
    assert code == 1 and "401" in err
    code, _, err = await _ctl(api, "status", url="http://127.0.0.1:9")
    assert code == 1 and "cannot reach" in err
    assert await _state(api) is TradingState.ACTIVE
