"""The real runtime (replay, temp SQLite) with its web API served by the real HTTP server on port 0.

``api`` yields an ``ApiHarness``: the runtime, the base URL, one token per role, and ``get``/``post``
helpers that send a role's bearer token through httpx.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.fixtures.live_runtime import LiveRuntime, MakeRuntime
from trader.adapters.ops.health import HealthServer, Metrics
from trader.config import OpsConfig
from trader.runtime.clock import SystemClock
from trader.services.api_tokens import ApiTokenService
from trader.services.audit import AuditService
from trader.services.dto import Role
from web.api import api_extension


@dataclass
class ApiHarness:
    """A served runtime plus a token per role."""

    live: LiveRuntime
    base: str
    client: httpx.AsyncClient
    tokens: dict[Role, str] = field(default_factory=dict)

    def headers(self, role: Role | None) -> dict[str, str]:
        """Return the Authorization header for ``role`` (none for None)."""
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}

    async def get(self, path: str, role: Role | None = Role.VIEWER, **params: Any) -> httpx.Response:
        """GET /api/v1``path`` as ``role``."""
        return await self.client.get(f"{self.base}/api/v1{path}", params=params, headers=self.headers(role))

    async def post(self, path: str, role: Role | None = Role.ADMIN, json: Any = None) -> httpx.Response:
        """POST /api/v1``path`` as ``role``."""
        return await self.client.post(f"{self.base}/api/v1{path}", json=json, headers=self.headers(role))


async def serve(live: LiveRuntime) -> AsyncIterator[ApiHarness]:
    """Serve ``live``'s web API on a free port with a token per role."""
    assert live.runtime.web is not None
    clock = SystemClock()
    tokens = ApiTokenService(live.uow, clock, AuditService(live.uow, clock))
    made = {role: (await tokens.create(f"test-{role.value}", role, "test")).token for role in Role}
    server = HealthServer(OpsConfig(health_port=0), Metrics(), extensions=(api_extension(live.runtime.web),))
    await server.start()
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            yield ApiHarness(live, f"http://127.0.0.1:{server.port}", client, made)
    finally:
        await server.stop()


@pytest.fixture
async def api(make_runtime: MakeRuntime) -> AsyncIterator[ApiHarness]:
    """Serve the breakout replay runtime's API."""
    live = await make_runtime()
    async for harness in serve(live):
        yield harness
