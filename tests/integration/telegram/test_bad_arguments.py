"""Bad arguments for every command: a helpful message (with the usage line for parse errors), no change."""

from __future__ import annotations

from decimal import Decimal

from handlers.commands import COMMANDS
from tests.fakes.fake_botapi.harness import BotHarness
from tests.fakes.memory_services import MemoryState

# (command line, fragment the error must contain); None means "the usage line of that command".
BAD: list[tuple[str, str | None]] = [
    ("/start now", None),
    ("/help me", None),
    ("/status all", None),
    ("/positions 1", None),
    ("/balance BTC", None),
    ("/profit -5", None),
    ("/profit 0", "from 1 to 3650"),
    ("/profit 99999", None),
    ("/profit 7 8", "Unexpected argument: 8"),
    ("/performance x", None),
    ("/daily 1000", "from 1 to 90"),
    ("/weekly abc", None),
    ("/monthly 61", None),
    ("/trades BTCUSDT", "Unexpected argument: BTCUSDT"),
    ("/trades 0", "from 1 to 50"),
    ("/trades won lost", "Unexpected argument: lost"),
    ("/trades a b c d", None),
    ("/trades BTC/USDT/X", "Not a pair"),
    ("/chart", "Which pair?"),
    ("/chart BTC", "Not a pair: BTC"),
    ("/chart BTC/USDT 7h", "Unknown timeframe 7h"),
    ("/chart BTC/USDT 1M", "Unknown timeframe"),
    ("/chart BTC/USDT 1h 5", "from 10 to 500"),
    ("/chart BTC/USDT 1h 100 x", None),
    ("/chart DOGE/USDT", "No candles for DOGE/USDT."),
    ("/equity now", None),
    ("/backtest", None),
    ("/backtest breakout", "strategy and a pair"),
    ("/backtest Break-out BTC/USDT", "Not a strategy name"),
    ("/backtest breakout BTC/USDT 1h 0d", "from 1 day"),
    ("/backtest breakout BTC/USDT 1h 11y", None),
    ("/backtest nope BTC/USDT", "Unknown strategy nope"),
    ("/strategies x", None),
    ("/settings risk.risk_per_trade", "Give a key and a value"),
    ("/settings risk.risk_per_trade 5", "must be in 0 < x <= 0.1"),
    ("/settings nope.key 1", "Unknown setting nope.key"),
    ("/settings risk.risk_per_trade abc", "needs a number"),
    ("/settings RISK;DROP 1", "Not a setting key"),
    ("/settings risk.risk_per_trade <b>", "Not a valid value"),
    ("/pause now", None),
    ("/resume x", None),
    ("/halt now", "only 'flatten'"),
    ("/halt flatten now", None),
    ("/close", "Say which position"),
    ("/close P1 P2", None),
    ("/close ../../x", "Not a position id"),
    ("/close P99", "No open position P99"),
    ("/buy", "Which pair?"),
    ("/buy BTC/USDT -1", "must be positive"),
    ("/buy BTC/USDT 0", "above zero"),
    ("/buy BTC/USDT 1e9", "Not an amount"),
    ("/buy BTC/USDT NaN", None),
    ("/buy BTC/USDT ١٢", "Not an amount"),
    ("/buy DOGE/USDT 1", "Unknown pair DOGE/USDT"),
    ("/buy BTC/USDT 0.000001", "Cannot buy: amount rounds to zero"),
    ("/buy BTC/USDT 0.00005", "Cannot buy: order value"),
    ("/buy BTC/USDT 99999999999999", "far too large"),
    ("/buy BTC/USDT 1 2", None),
    ("/health x", None),
    ("/jobs x", None),
    ("/dashboard x", None),
    ("/news BTC ETH", "Unexpected argument"),
    ("/news BTC/USDT", "Not an asset ticker"),
    ("/portfolio a b", "Unexpected argument"),
    ("/portfolio Bad!Name", "Not a basket name"),
    ("/holdings a b", "Unexpected argument"),
    ("/holdings ../x", "Not a basket name"),
    ("/version x", None),
    ("/config x", None),
    ("/reload x", None),
    ("/locks x", None),
    ("/unlock", "Which pair?"),
    ("/unlock BTC", "Not a pair"),
    ("/unlock BTC/USDT", "BTC/USDT is not locked"),
    ("/whoami x", None),
    ("/tax", "Which financial year?"),
    ("/tax 1999", "from 2010 to 2100"),
    ("/tax twenty", None),
    ("/tax 2024 median", "Unknown method median: choose fifo, highest-cost, lowest-cost"),
    ("/tax 2024 fifo x", "Unexpected argument"),
    ("/logs 0", None),
    ("/logs 201", "from 1 to 200"),
    ("/drift yesterday", "Not a date"),
    ("/drift 2024-02-30", "No such day"),
    ("/drift 2024-01-01 2024-02-01", "Unexpected argument"),
    ("/backtests 0", "from 1 to 20"),
    ("/backtests five", "whole number"),
    ("/backtests 3 4", "Unexpected argument"),
]


def test_every_command_has_a_bad_argument_case() -> None:
    covered = {line.split()[0][1:] for line, _ in BAD}
    assert covered == {c.name for c in COMMANDS}


async def test_bad_arguments_get_a_helpful_message_and_change_nothing(
    telegram_bot: BotHarness, memory_state: MemoryState
) -> None:
    memory_state.open_position("BTC/USDT", Decimal("0.01"), Decimal(59_000))
    before = (memory_state.changes, memory_state.state, dict(memory_state.positions), memory_state.cash)
    usage = {c.name: c.usage_line for c in COMMANDS}
    for line, fragment in BAD:
        reply = await telegram_bot.send(line)
        name = line.split()[0][1:]
        assert reply.shown.startswith("⚠️ "), f"{line}: {reply.shown}"
        expected = fragment if fragment is not None else f"Usage: {usage[name]}"
        assert expected in reply.shown, f"{line}: {reply.shown}"
        assert not reply.buttons, line
    after = (memory_state.changes, memory_state.state, dict(memory_state.positions), memory_state.cash)
    assert after == before
    assert telegram_bot.app.bot_data.unexpected_errors == 0
