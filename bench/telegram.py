"""Telegram command round-trip time through the fake Bot API over real HTTP.

Run: .venv/bin/python bench/telegram.py [--runs N]

Measured: from injecting a user's update into the fake Bot API until the fake has received the bot's
reply (long-poll wake-up, PTB getUpdates, access check, handler, service call, formatting, sendMessage).
The bot is built by ``bot.build_application`` with the production rate limiter (30 messages/s); commands
are paced 50 ms apart (a busy user, under Telegram's limit) so the limiter's queueing is not measured.
Services are the in-memory test double (tests/fakes/memory_services.py) with 20 open positions, so the
figures are the Telegram front end's own cost; the live services add their own query time.
Target: p95 < 150 ms for /status with 20 open positions.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

# This file's directory comes first on sys.path and its name would shadow the python-telegram-bot
# package ("telegram"): replace it with the repository root before importing anything from PTB.
sys.path[0] = str(Path(__file__).resolve().parents[1])

import bot  # noqa: E402
from tests.fakes.fake_botapi import FakeBotApiCore, FakeBotApiServer  # noqa: E402
from tests.fakes.fake_botapi.harness import ADMIN, running_bot  # noqa: E402
from tests.fakes.memory_services import MemoryState, memory_services  # noqa: E402

TARGET_P95_MS = 150.0
PACE_S = 0.05


def percentile(values: list[float], q: float) -> float:
    """Return the q-quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def measure(runs: int) -> list[tuple[str, list[float]]]:
    core = FakeBotApiCore()
    server = FakeBotApiServer(core)
    await server.start()
    state = MemoryState()
    for i in range(20):
        pair = "BTC/USDT" if i % 2 else "ETH/USDT"
        state.open_position(pair, Decimal("0.01"), state.prices[pair] * Decimal("0.98"),
                            stop=state.prices[pair] * Decimal("0.95"), take_profit=state.prices[pair] * 2,
                            trailing=i % 3 == 0)
    state.add_trades(100)
    results: list[tuple[str, list[float]]] = []
    try:
        async with running_bot(core, memory_services(state), limits=bot.RateLimits()) as harness:
            for command in ("/status", "/positions", "/balance", "/trades", "/profit 30"):
                timings = []
                for _ in range(runs):
                    started = time.perf_counter()
                    reply = await harness.send(command, chat_id=ADMIN)
                    timings.append((time.perf_counter() - started) * 1000)
                    assert reply.method == "sendMessage" and not reply.text.startswith("⚠️"), reply.text
                    await asyncio.sleep(PACE_S)
                label = f"{command} (20 open)" if command in ("/status", "/positions") else command
                results.append((label, timings))
    finally:
        await server.stop()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    opts = parser.parse_args()
    results = asyncio.run(measure(opts.runs))
    print(f"Telegram round trip through the fake Bot API over HTTP, {opts.runs} runs each, "
          f"paced {PACE_S * 1000:.0f} ms")
    print(f"{'command':<24}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'mean ms':>9}")
    for label, timings in results:
        print(f"{label:<24}{percentile(timings, 0.5):>9.1f}{percentile(timings, 0.95):>9.1f}"
              f"{max(timings):>9.1f}{statistics.fmean(timings):>9.1f}")
    p95 = percentile(results[0][1], 0.95)
    verdict = "meets" if p95 < TARGET_P95_MS else "MISSES"
    print(f"/status p95 {p95:.1f} ms {verdict} the target of {TARGET_P95_MS:.0f} ms")
    return 0 if p95 < TARGET_P95_MS else 1


if __name__ == "__main__":
    sys.exit(main())
