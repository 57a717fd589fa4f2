"""``/health``, ``/ready`` and ``/metrics``: the ops endpoints, unchanged from the former aiohttp server.

The router sees the runtime only through ``OpsProbe`` (the runtime's ``HealthServer`` implements it),
so the web package never imports the runtime.
"""

from __future__ import annotations

from typing import Final, Protocol

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

HEALTH_PATH: Final = "/health"
READY_PATH: Final = "/ready"
METRICS_PATH: Final = "/metrics"


class OpsProbe(Protocol):
    """What the ops endpoints read from the running service."""

    def uptime_seconds(self) -> float:
        """Return how long the service has been up."""
        ...

    def health_facts(self) -> dict[str, object]:
        """Return extra liveness facts for /health (e.g. the last backup); empty when none."""
        ...

    async def ready_body(self) -> tuple[bool, dict[str, object]]:
        """Run the readiness checks; return (ready, JSON body)."""
        ...

    def metrics_page(self) -> tuple[bytes, str]:
        """Return the Prometheus text exposition and its content type."""
        ...


def ops_router(probe: OpsProbe) -> APIRouter:
    """Return the router serving the three ops endpoints (no authentication: they reveal no data)."""
    router = APIRouter(tags=["ops"])

    @router.get(HEALTH_PATH, summary="Liveness")
    async def health() -> dict[str, object]:
        return {"status": "ok", "uptime_seconds": round(probe.uptime_seconds(), 3), **probe.health_facts()}

    @router.get(READY_PATH, summary="Readiness: every registered check passes")
    async def ready() -> JSONResponse:
        ok, body = await probe.ready_body()
        return JSONResponse(body, status_code=200 if ok else 503)

    @router.get(METRICS_PATH, summary="Prometheus metrics")
    async def metrics() -> Response:
        body, content_type = probe.metrics_page()
        return Response(body, headers={"Content-Type": content_type})

    return router
