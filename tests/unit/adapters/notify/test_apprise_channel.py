"""AppriseNotifier against a real local SMTP server (aiosmtpd) and a local HTTP JSON endpoint."""

from __future__ import annotations

import base64
import email.header

import pytest

from tests.fixtures.notify_servers import SmtpInbox, Webhook, free_port
from trader.adapters.notify.apprise_channel import AppriseNotifier
from trader.core.domain.alerts import Alert, Severity
from trader.core.errors import NotifyError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


async def test_email_arrives_with_title_as_subject_and_text_as_body(smtp_inbox: SmtpInbox) -> None:
    alert = Alert(kind="halt", text="Daily loss limit reached: -5.2 %", severity=Severity.CRITICAL)
    await AppriseNotifier([smtp_inbox.url()]).send(alert)
    assert len(smtp_inbox.messages) == 1
    msg = smtp_inbox.messages[0]
    subject = str(email.header.make_header(email.header.decode_header(msg["Subject"])))
    assert subject == "🚨 Trading halted (CRITICAL)"
    assert "trader@example.org" in msg["To"]
    bodies = [p.get_payload(decode=True).decode() for p in msg.walk() if p.get_content_type() == "text/plain"]
    assert any("Daily loss limit reached: -5.2 %" in b for b in bodies)


async def test_json_webhook_gets_message_type_and_image(webhook: Webhook) -> None:
    png = b"\x89PNG\r\n\x1a\nfake-chart"
    alert = Alert(kind="exit", text="Sold BTC/USDT", severity=Severity.WARNING, image=png)
    await AppriseNotifier([webhook.url()]).send(alert)
    assert len(webhook.received) == 1
    payload = webhook.received[0]
    assert payload["title"] == "⚠️ Exit (WARNING)"
    assert payload["message"] == "Sold BTC/USDT"
    assert payload["type"] == "warning"
    attachments = payload["attachments"]
    assert len(attachments) == 1
    assert base64.b64decode(attachments[0]["base64"]) == png


async def test_endpoint_error_raises_notify_error(webhook: Webhook) -> None:
    webhook.status = 500
    with pytest.raises(NotifyError, match="apprise delivery failed"):
        await AppriseNotifier([webhook.url()]).send(Alert(kind="entry", text="x"))


async def test_unreachable_smtp_server_raises_notify_error() -> None:
    url = SmtpInbox(port=free_port()).url()
    with pytest.raises(NotifyError):
        await AppriseNotifier([url]).send(Alert(kind="entry", text="x"))
