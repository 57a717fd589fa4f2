"""Alert outbox end to end: real store (SQLite and PostgreSQL), router, apprise to local SMTP and HTTP.

The webhook fails, the process "restarts" (new engine, new services), and every queued alert is then
delivered in order, with the attempts recorded in between.
"""

from __future__ import annotations

import base64
import email.header
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.fixtures.notify_servers import SmtpInbox, Webhook
from trader.adapters.notify.apprise_channel import AppriseNotifier
from trader.adapters.notify.console_channel import ConsoleNotifier
from trader.adapters.notify.router import AlertRouter, Route
from trader.adapters.store.migrate import upgrade_async
from trader.adapters.store.sql.uow import Database
from trader.core.domain.alerts import Alert, Severity
from trader.live.alerts import AlertService, RetryPolicy
from trader.runtime.clock import SimClock

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
async def migrated(db_url: str) -> AsyncIterator[str]:
    await upgrade_async(db_url)
    yield db_url


def _service(db: Database, hook: Webhook, inbox: SmtpInbox, console: io.StringIO,
             clock: SimClock) -> AlertService:
    router = AlertRouter(
        [Route("console", ConsoleNotifier(console)),
         Route("webhook", AppriseNotifier([hook.url()])),
         Route("email", AppriseNotifier([inbox.url()]), Severity.ERROR)],
        clock,
    )
    return AlertService(db.uow, router, clock, RetryPolicy(initial_seconds=5))


async def test_alerts_survive_failures_and_restart_and_arrive_in_order(
    migrated: str, webhook: Webhook, smtp_inbox: SmtpInbox
) -> None:
    clock, console = SimClock(T0), io.StringIO()
    db = Database.from_url(migrated)
    service = _service(db, webhook, smtp_inbox, console, clock)
    png = b"\x89PNG\r\n\x1a\nchart"
    await service.publish(Alert(kind="entry", text="Bought 0.01 BTC/USDT at 64000", image=png))
    await service.publish(Alert(kind="halt", text="Daily loss limit", severity=Severity.CRITICAL))
    async with db.uow() as uow:  # an alert committed with the state change it reports
        await service.enqueue(uow, Alert(kind="exit", text="Sold 0.01 BTC/USDT"))
        await uow.commit()

    webhook.status = 500
    result = await service.dispatch_once()
    assert (result.delivered, result.failed, result.remaining) == (0, 1, 3)
    async with db.uow() as uow:
        pending = await uow.alerts.pending()
    assert [(p.attempts, p.last_error is not None) for p in pending] == [(1, True), (0, False), (0, False)]
    assert "NotifyError" in (pending[0].last_error or "")
    await db.dispose()  # the process dies here

    webhook.status = 200
    clock.advance(timedelta(minutes=1))
    db = Database.from_url(migrated)
    try:
        restarted = _service(db, webhook, smtp_inbox, console, clock)
        result = await restarted.dispatch_once()
        assert result.delivered == 3
        async with db.uow() as uow:
            assert await uow.alerts.pending() == []
    finally:
        await db.dispose()

    # The first post was answered 500, so it counts as not delivered; then all three, in order.
    assert [p["message"] for p in webhook.received] == [
        "Bought 0.01 BTC/USDT at 64000",
        "Bought 0.01 BTC/USDT at 64000", "Daily loss limit", "Sold 0.01 BTC/USDT",
    ]
    assert base64.b64decode(webhook.received[1]["attachments"][0]["base64"]) == png
    assert len(smtp_inbox.messages) == 1  # only the CRITICAL alert goes by email
    subject = str(email.header.make_header(email.header.decode_header(smtp_inbox.messages[0]["Subject"])))
    assert subject == "🚨 Trading halted (CRITICAL)"
    # At least once: the console got the first alert before the crash and again after the restart.
    assert console.getvalue().count("Bought 0.01 BTC/USDT") == 2
    assert console.getvalue().count("Daily loss limit") == 1
