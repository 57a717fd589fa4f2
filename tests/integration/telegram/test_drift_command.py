"""/drift through the real bot (PTB against the fake Bot API) over the container's services and SQLite."""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timedelta

from tests.fakes.fake_botapi import FakeBotApiCore
from tests.fakes.fake_botapi.harness import BotHarness, running_bot
from tests.fixtures.live_runtime import MakeRuntime

# The replay starts shortly before breakout's first signal: 120 candles hold at least one round trip.
CANDLES = 120


async def test_drift_shows_the_same_trades_then_the_one_whose_fill_was_moved(
        fake_botapi: FakeBotApiCore, make_runtime: MakeRuntime) -> None:
    live = await make_runtime(strategies=("breakout",))
    async with running_bot(fake_botapi, live.runtime.services) as bot:
        early = await bot.send("/drift", within=60)
        assert "no history" in early.shown  # nothing replayed yet
        await live.advance(CANDLES)
        clean = await bot.send("/drift", within=60)
        matched = re.search(r"(\d+) matched, 0 missing, 0 extra; 0 logic differences", clean.shown)
        assert matched is not None and int(matched.group(1)) >= 1, clean.shown
        assert "Every trade is the same" in clean.shown

        path = live.url.removeprefix("sqlite+aiosqlite:///")
        with sqlite3.connect(path) as db:
            row_id, ts = db.execute("SELECT id, ts FROM fills WHERE side = 'sell' ORDER BY ts").fetchone()
            later = datetime.fromisoformat(ts) + timedelta(hours=3)
            db.execute("UPDATE fills SET ts = ? WHERE id = ?", (later.isoformat(sep=" "), row_id))
        moved = await bot.send("/drift", within=60)
        assert "1 logic difference" in moved.shown
        assert "[LOGIC] matched" in moved.shown and "(exit time)" in moved.shown
        assert "<pre>" in moved.text  # the shared formatter's text, escaped into a pre block

        since = await bot.send("/drift 2030-01-01", within=60)
        assert "no history" in since.shown


async def test_drift_on_an_empty_account_says_there_is_nothing_to_compare(telegram_bot: BotHarness) -> None:
    reply = await telegram_bot.send("/drift", within=60)
    assert reply.shown.startswith("⚠️") and "no history" in reply.shown
