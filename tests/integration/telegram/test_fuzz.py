"""Fuzz the real handler stack with 10,000+ generated commands (hypothesis).

For volume the updates go straight into PTB's ``Application.process_update`` as real ``Update``
objects, and the bot's requests go through ``CoreRequest`` into the same fake Bot API core the HTTP
tests use (no sockets). The fake rejects what Telegram would reject (bad HTML, over-long text), so a
400 here means a reply the real Telegram would have refused.
"""

from __future__ import annotations

import asyncio
import string
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from telegram import Update

import bot
from handlers.commands import COMMANDS
from handlers.context import BotApplication
from tests.fakes.fake_botapi import CoreRequest, FakeBotApiCore
from tests.fakes.fake_botapi.core import user_message
from tests.fakes.fake_botapi.harness import ADMIN, NO_LIMITS, STRANGER, TRADER, VIEWER, telegram_config
from tests.fakes.memory_services import MemoryState, memory_services
from trader.core.domain.enums import TradingState

BATCH, EXAMPLES = 50, 205  # 10,250 updates
PHASES = (Phase.explicit, Phase.reuse, Phase.generate)  # no shrinking: a failing batch is reported as is
MUTATING = {"pause", "resume", "unlock", "reload"}
NAMES = [c.name for c in COMMANDS] + [
    "Status",
    "HALT",
    "buy@fake_test_bot",
    "status@other_bot",
    "nope",
    "ſtatus",
]
SPECIAL = [
    "BTC/USDT",
    "btc/usdt",
    "ETH/USDT",
    "XXX/YYY",
    "DOGE/USDT",
    "BTC/",
    "/USDT",
    "all",
    "won",
    "lost",
    "flatten",
    "P1",
    "P2",
    "P999",
    "risk.risk_per_trade",
    "breakout.period",
    "0.01",
    "-0.01",
    "1e999",
    "NaN",
    "-Infinity",
    "sNaN",
    "0x10",
    "٣",
    "１２",
    "\u202eDSU",
    "<b>",
    "</b>",
    "<script>alert(1)</script>",
    "&amp;",
    "&",
    "a<b>c",
    "'; DROP TABLE trades;--",
    "${jndi:ldap://x/a}",
    "../../etc/passwd",
    "%s%s%n",
    "{0}",
    "\x00",
    "🚀" * 30,
    "9" * 400,
    "-" + "9" * 60,
    "0." + "0" * 40 + "1",
    "2024",
    "1h",
    "4h",
    "1M",
    "90d",
    "11y",
]
token = st.one_of(
    st.text(max_size=40),
    st.integers(-(10**40), 10**40).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.sampled_from(SPECIAL),
    st.tuples(
        st.text(string.ascii_letters + string.digits, max_size=14),
        st.text(string.ascii_letters + string.digits, max_size=14),
    ).map("/".join),
)
command = st.tuples(
    st.sampled_from(NAMES), st.lists(token, max_size=5), st.sampled_from([" ", "  ", "\t"])
).map(lambda t: "/" + t[0] + (t[2] + t[2].join(t[1]) if t[1] else ""))
update = st.tuples(
    st.one_of(command, command, command, command, st.text(min_size=1, max_size=60).filter(str.strip)),
    st.sampled_from([ADMIN, ADMIN, ADMIN, TRADER, VIEWER, STRANGER]),
    st.booleans(),  # as a button press with this text as raw callback data
)


class Fuzzer:
    """Feeds updates one by one and checks each one's effects."""

    def __init__(self, fake: FakeBotApiCore, app: BotApplication, state: MemoryState) -> None:
        self.fake, self.app, self.state = fake, app, state
        self.processed = 0
        self.ids = iter(range(1, 10**9))

    def payload(self, text: str, chat: int, as_button: bool) -> dict[str, Any]:
        message = user_message(next(self.ids), text, chat_id=chat)
        if not as_button:
            return {"update_id": next(self.ids), "message": message}
        query = {
            "id": f"q{next(self.ids)}",
            "chat_instance": "ci",
            "data": text[:64] or "x",
            "from": message["from"],
            "message": {**message, "from": {"id": 1, "is_bot": True, "first_name": "B"}},
        }
        return {"update_id": next(self.ids), "callback_query": query}

    async def feed(self, text: str, chat: int, as_button: bool) -> None:
        before_changes, before_state = self.state.changes, self.state.state
        first_call = len(self.fake.calls)
        await self.app.process_update(Update.de_json(self.payload(text, chat, as_button), self.app.bot))
        # Slow commands run as their own tasks (block=False): wait for them before checking effects;
        # their errors already went to the error handler (PTB also leaves them on the task).
        await asyncio.gather(*(asyncio.all_tasks() - {asyncio.current_task()}), return_exceptions=True)
        calls = self.fake.calls[first_call:]
        self.processed += 1
        for call in calls:
            assert call.status == 200, f"{text!r}: Telegram would refuse {call.method}: {call.params}"
            assert "Traceback" not in call.text and 'File "' not in call.text, text
        assert self.app.bot_data.unexpected_errors == 0, text
        if chat == ADMIN and not as_button and "@other_bot" not in text.split(maxsplit=1)[0]:
            assert calls, f"no answer to {text!r}"
        if self.state.changes != before_changes:
            name = text.split(maxsplit=1)[0][1:].split("@", maxsplit=1)[0].lower()
            replies = [c for c in calls if c.method == "sendMessage"]
            assert name in MUTATING and chat in (ADMIN, TRADER) and not as_button, text
            assert replies and replies[0].text.startswith("✅"), text
        elif self.state.state is not before_state:
            raise AssertionError(f"state changed without being counted: {text!r}")


# The application is initialised but not started (no update fetcher), so PTB warns that tasks of slow
# commands are not awaited for us: Fuzzer.feed awaits them itself.
@pytest.mark.filterwarnings("ignore:Tasks created via `Application.create_task`")
def test_fuzzed_commands_never_crash_leak_or_change_state_when_invalid() -> None:
    runner = asyncio.Runner()
    fake = FakeBotApiCore()
    state = MemoryState()
    state.open_position("BTC/USDT", Decimal("0.01"), Decimal(59_000))
    app = bot.build_application(
        telegram_config(fake), memory_services(state), limits=NO_LIMITS, request=CoreRequest(fake)
    )
    runner.run(app.initialize())
    fuzzer = Fuzzer(fake, app, state)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=PHASES,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(update, min_size=BATCH, max_size=BATCH))
    def run_batch(batch: list[tuple[str, int, bool]]) -> None:
        for text, chat, as_button in batch:
            runner.run(fuzzer.feed(text, chat, as_button))
        state.state = TradingState.ACTIVE  # keep /pause reachable in the next batch

    try:
        run_batch()
    finally:
        runner.run(app.shutdown())
        runner.close()
    assert fuzzer.processed >= 10_000
