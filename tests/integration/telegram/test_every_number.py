"""Acceptance: every command of the command table, with typical and edge arguments, answered by the real
bot (PTB against the fake Bot API) over the REAL services on a store holding real closed trades.

Every number in every reply must be a value the services handed to the handler (recorded on its way
out of the service), formatted by ``trader.core.formatting`` in the unit its DTO field names (a fraction is a
percentage, an amount is money, a price or a quantity): a presentation layer that rescales or reformats
a value makes this test fail. The seeded trades' own figures (computed here from entry, exit and fees)
pin the DTO values themselves, so a service handing out a percentage as a fraction fails too.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest

from handlers.commands import COMMANDS
from handlers.formatting import ERROR_MARK
from tests.fakes.fake_botapi import FakeBotApiCore
from tests.fakes.fake_botapi.core import BotCall
from tests.fakes.fake_botapi.harness import ADMIN, BotHarness, running_bot
from tests.fixtures.live_runtime import LiveRuntime, MakeRuntime
from trader.core import formatting as fmt
from trader.core.domain.enums import Direction, ExitReason
from trader.core.domain.ids import PositionId, Symbol
from trader.core.positions.state import Position, PositionStatus
from trader.ports.store import EquitySnapshot
from trader.services.api import Services

D = Decimal
_NUMBER = re.compile(r"[+-]?\d+(?:,\d{3})*(?:\.\d+)?%?")
# DTO fields holding fractions (shown as percentages); every other number is money, a price or a ratio
_FRACTION = re.compile(r"fraction|pct|rate|return|drawdown|volatility|distance")

# (symbol, strategy, direction, amount, entry, exit, fees, exit reason, closed days before now)
SEEDS: tuple[tuple[str, str, Direction, str, str, str, str, ExitReason, int], ...] = (
    ("BTC/USDT", "breakout", Direction.LONG, "0.05", "49600", "50905", "2.06", ExitReason.TAKE_PROFIT, 9),
    ("ETH/USDT", "breakout", Direction.LONG, "0.8", "3125", "3067.6", "1.998", ExitReason.STOP_LOSS, 6),
    ("BTC/USDT", "bollinger_reversion", Direction.LONG, "0.02", "51000", "50120.5", "1.05",
     ExitReason.STOP_LOSS, 3),
    ("ETH/USDT", "bollinger_reversion", Direction.LONG, "1.2", "2990", "3001.25", "3.6",
     ExitReason.SIGNAL, 1),
)


def seeded_position(i: int, now: datetime) -> Position:
    """Return seed ``i`` as a closed position (realised PnL net of fees, like the engine books it)."""
    symbol, strategy, direction, amount, entry, exit_, fees, reason, days = SEEDS[i]
    closed = now - timedelta(days=days)
    pnl = (D(exit_) - D(entry)) * D(amount) - D(fees)
    return Position(
        id=PositionId(f"seed-{i}"), symbol=Symbol(symbol), strategy=strategy, direction=direction,
        status=PositionStatus.CLOSED, amount=D(amount), filled=D(amount), entry_price=D(entry),
        exit_filled=D(amount), exit_price=D(exit_), opened_at=closed - timedelta(hours=7), closed_at=closed,
        exit_reason=reason, fees=D(fees), realised_pnl=pnl, created_at=closed - timedelta(hours=7),
    )


class Recorder:
    """A service that records every value its async methods return (what the handler received)."""

    def __init__(self, inner: object, seen: list[object]) -> None:
        self._inner, self._seen = inner, seen

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not inspect.iscoroutinefunction(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            result = await attr(*args, **kwargs)
            self._seen.append(result)
            return result
        return call


def _forms(name: str, value: object) -> Iterator[str]:
    """Yield every text the one formatter may make of a DTO field ``name`` holding ``value``."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, Enum):
        yield str(value.value)
    elif isinstance(value, int):
        yield from (str(value), f"{value:,}", str(value + 1))  # pages are shown counting from 1
    elif isinstance(value, Decimal | float):
        if name == "uptime_seconds":
            yield from (str(int(value // 3600)), str(int(value % 3600 // 60)))
        elif _FRACTION.search(name):
            for digits in (0, 1, 2):
                yield fmt.percent(value, digits=digits)
                yield fmt.percent(value, digits=digits, sign=False)
        else:
            yield from (fmt.money(value), fmt.money(value, sign=True), fmt.price(value), fmt.qty(value),
                        fmt.ratio(value))
    elif isinstance(value, datetime):
        yield from (value.strftime("%Y-%m-%d %H:%M"), value.isoformat())
    elif isinstance(value, date):
        yield value.isoformat()
    elif isinstance(value, str):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _forms(name, item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _forms(f.name, getattr(value, f.name))


def numbers(text: str) -> set[str]:
    """Return the number tokens of ``text`` (dates and times split into their digit groups)."""
    return set(_NUMBER.findall(text))


@dataclasses.dataclass
class Bench:
    """The bot over recorded real services, on a store with the seeded trades."""

    bot: BotHarness
    live: LiveRuntime
    seen: list[object]
    now: datetime

    async def ask(self, command: str, *, slow: bool = False) -> list[BotCall]:
        """Send ``command``; return every message the bot sent for it."""
        self.seen.clear()
        calls = [await self.bot.send(command, within=60 if slow else 10)]
        while True:
            try:
                calls.append(await self.bot.fake.next_call(within=3 if slow else 0.5))
            except AssertionError:
                return calls


@pytest.fixture
async def bench(fake_botapi: FakeBotApiCore, make_runtime: MakeRuntime) -> AsyncIterator[Bench]:
    """Seed four closed trades and eleven daily equity snapshots, then serve the bot."""
    live = await make_runtime(strategies=("breakout", "bollinger_reversion"))
    await live.advance(2)
    now = live.runtime.lifecycle.parts.clock.now()
    async with live.uow() as uow:
        for i in range(len(SEEDS)):
            await uow.positions.save(seeded_position(i, now))
        for day, equity in enumerate(("10000", "10040.5", "10065.19", "10012.2", "9960.07", "9981",
                                      "9999.9", "9963.3", "9950.02", "9975.6", "9990.55")):
            at = now - timedelta(days=10 - day, hours=1)
            await uow.equity.add(EquitySnapshot(at, "USDT", D(equity), D(equity)))
        await uow.commit()
    seen: list[object] = []
    real = live.runtime.services
    recorded = Services(**{f.name: Recorder(getattr(real, f.name), seen) for f in dataclasses.fields(real)})
    async with running_bot(fake_botapi, recorded) as harness:
        yield Bench(harness, live, seen, now)


# Typical and edge arguments for every command in the table (errors are replies too).
ASKS: tuple[str, ...] = (
    "/start", "/help", "/status", "/positions", "/balance",
    "/profit", "/profit 7", "/profit 1", "/profit 0", "/profit x",
    "/performance", "/performance strategy", "/performance coin",
    "/daily", "/daily 3", "/weekly", "/weekly 2", "/monthly", "/monthly 91",
    "/trades", "/trades BTC/USDT", "/trades ETH/USDT lost", "/trades won", "/trades 2", "/trades DOGE/USDT",
    "/chart BTC/USDT 1h 50", "/chart NOPE/USDT", "/equity",
    "/backtest breakout BTC/USDT 1h 30d", "/backtest nope BTC/USDT", "/backtests", "/backtests 0",
    "/drift", "/drift 2022-01-01", "/drift 2099-01-01", "/drift x",
    "/strategies", "/settings", "/settings risk.risk_per_trade 0.02", "/settings risk.risk_per_trade 7",
    "/pause", "/resume", "/halt", "/halt flatten", "/close all", "/close nope", "/buy ETH/USDT 0.05",
    "/buy ETH/USDT 0", "/health", "/jobs", "/dashboard", "/version", "/config", "/reload", "/locks",
    "/unlock BTC/USDT", "/news", "/news BTC", "/portfolio", "/portfolio nope", "/holdings",
    "/holdings default", "/whoami", "/tax 2022", "/tax 1999", "/logs 5", "/logs 0",
)


def test_the_asks_cover_every_command_in_the_table() -> None:
    asked = {a.split()[0].lstrip("/") for a in ASKS}
    assert {c.name for c in COMMANDS} <= asked


def _allowed(bench: Bench, command: str) -> set[str]:
    texts = [command, f"{ADMIN}"] + [c.usage_line + " " + c.help for c in COMMANDS]  # /whoami: the ids
    for value in bench.seen:
        texts += list(_forms("", value))
    return set().union(*(numbers(t) for t in texts))


async def test_every_number_in_every_reply_is_a_service_value_formatted_once(bench: Bench) -> None:
    slow = {c.name for c in COMMANDS if c.slow}
    problems: list[str] = []
    for command in ASKS:
        calls = await bench.ask(command, slow=command.split()[0].lstrip("/") in slow)
        allowed = _allowed(bench, command)
        for call in calls:
            # an error reply quotes the argument's bounds, not a service value
            stray = set() if call.shown.startswith(ERROR_MARK) else numbers(call.shown) - allowed
            if stray:
                problems.append(f"{command}: {sorted(stray)} not from a service value in {call.shown!r}")
            if re.search(r"\binf\b|\bnan\b|\d[eE][+-]\d", call.shown, re.IGNORECASE):
                problems.append(f"{command}: a raw float in {call.shown!r}")
    assert bench.bot.app.bot_data.unexpected_errors == 0
    assert not problems, "\n".join(problems)


async def test_trades_and_performance_show_each_trade_return_as_its_fraction_of_the_notional(
        bench: Bench) -> None:
    trades = "\n".join(c.shown for c in await bench.ask("/trades"))
    for i in range(len(SEEDS)):
        p = seeded_position(i, bench.now)
        assert p.entry_price is not None
        fraction = p.realised_pnl / (p.entry_price * p.filled)
        assert f"{fmt.money(p.realised_pnl, 'USDT', sign=True)} ({fmt.percent(fraction)})" in trades
    # 0.05 BTC bought at 49,600 and sold at 50,905 less 2.06 fees: +63.19 USDT, 2.55 % of 2,480 USDT
    assert "+63.19 USDT (+2.55%)" in trades
    by_strategy = "\n".join(c.shown for c in await bench.ask("/performance strategy"))
    assert "Performance by strategy" in by_strategy
    # breakout: +63.19 and (3,067.6 - 3,125) x 0.8 - 1.998 = -47.918 (-1.92 % of 2,500)
    assert "breakout: +15.27 over 2 trades" in by_strategy
    # bollinger_reversion: -879.5 x 0.02 - 1.05 = -18.64 and 11.25 x 1.2 - 3.6 = +9.90
    assert "bollinger_reversion: -8.74 over 2 trades" in by_strategy


async def test_profit_shows_the_live_account_ratios_from_the_daily_equity(bench: Bench) -> None:
    reply = "\n".join(c.shown for c in await bench.ask("/profit"))
    view = await bench.live.runtime.services.reports.profit(None)
    assert view.sharpe is not None and view.sortino is not None and view.volatility is not None
    assert f"Sharpe {fmt.ratio(view.sharpe)}" in reply and f"Sortino {fmt.ratio(view.sortino)}" in reply
    assert f"Volatility {fmt.percent(view.volatility, sign=False)}" in reply
    assert f"Profit factor {fmt.ratio(view.profit_factor)}" in reply
