"""Alerts from the outbox (real SQLite store) through the router to Telegram, in order, across 429s."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

import bot
from handlers.context import BotApplication
from tests.fakes.fake_botapi import FakeBotApiCore
from tests.fakes.fake_botapi.harness import ADMIN, telegram_config
from tests.fakes.memory_services import MemoryState, memory_services
from trader.adapters.notify.router import AlertRouter, Route
from trader.adapters.notify.telegram_channel import TelegramNotifier
from trader.adapters.store.migrate import upgrade_async
from trader.adapters.store.sql.uow import Database
from trader.core.domain.alerts import Alert, Severity
from trader.live.alerts import AlertService, RetryPolicy
from trader.runtime.clock import SimClock

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
async def database(sqlite_url: str) -> AsyncIterator[Database]:
    await upgrade_async(sqlite_url)
    db = Database.from_url(sqlite_url)
    yield db
    await db.dispose()


async def _app(fake: FakeBotApiCore, retries: int) -> BotApplication:
    limits = bot.RateLimits(max_retries=retries)
    return bot.build_application(telegram_config(fake), memory_services(MemoryState()), limits=limits)


def _outbox(db: Database, app: BotApplication, clock: SimClock) -> AlertService:
    router = AlertRouter([Route("telegram", TelegramNotifier(app.bot, [ADMIN]))], clock)
    return AlertService(db.uow, router, clock, RetryPolicy(initial_seconds=5))


async def test_outbox_alerts_reach_telegram_in_order_after_a_retried_429(
    fake_botapi: FakeBotApiCore, database: Database
) -> None:
    clock = SimClock(T0)
    async with await _app(fake_botapi, retries=3) as app:
        outbox = _outbox(database, app, clock)
        for text in ("Bought 0.01 BTC/USDT", "Stop moved to 61,000", "Sold 0.01 BTC/USDT"):
            await outbox.publish(Alert("entry", text))
        fake_botapi.fail_next("sendMessage", 429, retry_after=1)
        result = await outbox.dispatch_once()
    assert (result.delivered, result.failed) == (3, 0)
    texts = [c.text.splitlines()[-1] for c in fake_botapi.sent("sendMessage")]
    assert texts == ["Bought 0.01 BTC/USDT", "Stop moved to 61,000", "Sold 0.01 BTC/USDT"]


async def test_a_429_that_outlasts_the_retries_is_delivered_later_without_reordering(
    fake_botapi: FakeBotApiCore, database: Database
) -> None:
    clock = SimClock(T0)
    async with await _app(fake_botapi, retries=0) as app:
        outbox = _outbox(database, app, clock)
        await outbox.publish(Alert("halt", "Daily loss limit reached", Severity.CRITICAL))
        await outbox.publish(Alert("exit", "Sold 0.01 ETH/USDT"))
        fake_botapi.fail_next("sendMessage", 429, retry_after=30)
        first = await outbox.dispatch_once()
        assert (first.delivered, first.failed, first.remaining) == (0, 1, 2)
        assert not fake_botapi.sent("sendMessage")
        clock.advance(timedelta(seconds=6))
        second = await outbox.dispatch_once()
    assert (second.delivered, second.failed) == (2, 0)
    texts = [c.text.splitlines()[-1] for c in fake_botapi.sent("sendMessage")]
    assert texts == ["Daily loss limit reached", "Sold 0.01 ETH/USDT"]
    assert "CRITICAL" in fake_botapi.sent("sendMessage")[0].text
