"""The error shape of the web app: a failure inside a route is a bare JSON 500, never a traceback."""

from __future__ import annotations

import httpx

from web.app import create_app


class _BrokenProbe:
    def uptime_seconds(self) -> float:
        return 1.0

    def health_facts(self) -> dict[str, object]:
        return {}

    async def ready_body(self) -> tuple[bool, dict[str, object]]:
        raise RuntimeError("secret internals at /home/user/db.sqlite")

    def metrics_page(self) -> tuple[bytes, str]:
        return b"", "text/plain"


async def test_an_unexpected_error_is_a_json_500_without_details() -> None:
    app = create_app(_BrokenProbe())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://web") as client:
        resp = await client.get("/ready")
        assert resp.status_code == 500
        assert resp.json() == {"error": {"status": 500, "code": "internal",
                                         "message": "internal error; the service log has the details"}}
        assert "secret internals" not in resp.text and "Traceback" not in resp.text
        assert (await client.get("/health")).json()["status"] == "ok"
        wrong = await client.post("/health")
        assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
