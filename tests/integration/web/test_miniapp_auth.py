"""Mini App sign-in through the real API: genuine init data reads with the allow-list's role; forged,
expired and strangers' init data get 401/403 and no data."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest
from pydantic import SecretStr

from tests.fixtures.live_runtime import MakeRuntime
from tests.integration.web.conftest import ApiHarness, serve
from trader.config import TelegramConfig, TelegramUser
from trader.services.miniapp import init_data_hash

BOT_TOKEN = "123456:TEST-token"
VIEWER_ID, ADMIN_ID, STRANGER_ID = 1001, 1002, 666


def init_data(user_id: int, *, token: str = BOT_TOKEN, age: float = 0.0) -> str:
    """Return init data as Telegram would sign it for ``user_id``, ``age`` seconds ago."""
    fields = {"auth_date": str(int(time.time() - age)), "query_id": "AAH", "user": json.dumps(
        {"id": user_id, "first_name": "Test", "username": f"u{user_id}"}, separators=(",", ":"))}
    fields["hash"] = init_data_hash(fields, token)
    return urlencode(fields)


@pytest.fixture
async def app(make_runtime: MakeRuntime) -> AsyncIterator[ApiHarness]:
    """Serve a runtime whose bot token and allow-list sign Mini App users in."""
    telegram = TelegramConfig(token=SecretStr(BOT_TOKEN), allowed_chats=(
        TelegramUser(id=VIEWER_ID, role="viewer"), TelegramUser(id=ADMIN_ID, role="admin")))
    live = await make_runtime(telegram=telegram)
    async for harness in serve(live):
        yield harness


async def _get(api: ApiHarness, path: str, data: str) -> tuple[int, dict[str, object]]:
    headers = {"Authorization": f"tma {data}"} if data else {}
    resp = await api.client.get(f"{api.base}/api/v1{path}", headers=headers)
    return resp.status_code, resp.json()


async def test_genuine_init_data_reads_with_the_allow_list_role(app: ApiHarness) -> None:
    status, body = await _get(app, "/status", init_data(VIEWER_ID))
    assert status == 200 and body["state"] == "active"
    assert (await _get(app, "/audit", init_data(VIEWER_ID)))[0] == 403  # a viewer stays a viewer
    assert (await _get(app, "/audit", init_data(ADMIN_ID)))[0] == 200


async def test_forged_expired_and_strangers_init_data_get_nothing(app: ApiHarness) -> None:
    forged = init_data(ADMIN_ID, token="999:someone-else")
    tampered = init_data(VIEWER_ID).replace(f"%22id%22%3A{VIEWER_ID}", f"%22id%22%3A{ADMIN_ID}")
    for data, status, words in [(forged, 401, "not signed"), (tampered, 401, "not signed"),
                                (init_data(ADMIN_ID, age=7200), 401, "old"),
                                (init_data(STRANGER_ID), 403, "allow-list"), ("", 401, "missing")]:
        code, body = await _get(app, "/status", data)
        assert code == status, (data, body)
        error = body["error"]
        assert isinstance(error, dict) and words in str(error["message"])
        assert "positions" not in body
