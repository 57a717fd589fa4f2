"""AppriseNotifier against a real local SMTP server (aiosmtpd) and a local HTTP JSON endpoint."""

from __future__ import annotations

import base64
import email
import socket
from collections.abc import AsyncIterator, Iterator
from email.message import Message
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller

from trader.domain.alerts import Alert, Severity
from trader.errors import NotifyError
from trader.notify.apprise_channel import AppriseNotifier

Webhook = tuple[list[dict[str, Any]], int, list[int]]  # received payloads, port, status to answer

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
async def webhook() -> AsyncIterator[Webhook]:
    received: list[dict[str, Any]] = []
    status = [200]

    async def handle(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(status=status[0])

    app = web.Application()
    app.router.add_post("/alerts", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    yield received, port, status
    await runner.cleanup()


def _mail_url(port: int) -> str:
    return f"mailto://127.0.0.1:{port}?from=bot@example.org&to=trader@example.org&mode=insecure"


async def test_email_arrives_with_title_as_subject_and_text_as_body(smtp: tuple[_Inbox, int]) -> None:
    inbox, port = smtp
    alert = Alert(kind="halt", text="Daily loss limit reached: -5.2 %", severity=Severity.CRITICAL)
    await AppriseNotifier([_mail_url(port)]).send(alert)
    assert len(inbox.messages) == 1
    msg = inbox.messages[0]
    subject = str(email.header.make_header(email.header.decode_header(msg["Subject"])))
    assert subject == "🚨 Trading halted (CRITICAL)"
    assert msg["To"].endswith("trader@example.org") or "trader@example.org" in msg["To"]
    bodies = [p.get_payload(decode=True).decode() for p in msg.walk() if p.get_content_type() == "text/plain"]
    assert any("Daily loss limit reached: -5.2 %" in b for b in bodies)


async def test_json_webhook_gets_message_type_and_image(webhook: Webhook) -> None:
    received, port, _ = webhook
    png = b"\x89PNG\r\n\x1a\nfake-chart"
    alert = Alert(kind="exit", text="Sold BTC/USDT", severity=Severity.WARNING, image=png)
    await AppriseNotifier([f"json://127.0.0.1:{port}/alerts"]).send(alert)
    assert len(received) == 1
    payload = received[0]
    assert payload["title"] == "⚠️ Exit (WARNING)"
    assert payload["message"] == "Sold BTC/USDT"
    assert payload["type"] == "warning"
    attachments = payload["attachments"]
    assert len(attachments) == 1
    assert base64.b64decode(attachments[0]["base64"]) == png


async def test_endpoint_error_raises_notify_error(webhook: Webhook) -> None:
    _, port, status = webhook
    status[0] = 500
    with pytest.raises(NotifyError, match="apprise delivery failed"):
        await AppriseNotifier([f"json://127.0.0.1:{port}/alerts"]).send(Alert(kind="entry", text="x"))


async def test_unreachable_smtp_server_raises_notify_error() -> None:
    with pytest.raises(NotifyError):
        await AppriseNotifier([_mail_url(_free_port())]).send(Alert(kind="entry", text="x"))
