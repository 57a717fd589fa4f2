"""Benchmark the paper account's persistence over a long replay: does a save get dearer as fills pile up?

Run: .venv/bin/python bench/paper_persistence.py [--fills 10000] [--whole] [--pg postgresql+asyncpg://...]

A replay-shaped loop on a real SQLite file (or PostgreSQL): per 1m candle the PaperExchange is fed the
candle, one market order is placed (buy and sell in turn, so every candle fills one order), and the
account is saved through ``PaperStateStore`` like the replay driver does. Prints candles/s and the
mean save (ms and bytes written) for the first window and for the window ending at ``--fills``.
``--whole`` saves ``snapshot()`` as one document per save instead: what every save did before the
account was stored incrementally.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from trader.adapters.exchange.paper_store import PaperStateStore
from trader.adapters.exchange.paper_venue import PaperChanges, PaperCosts, PaperExchange
from trader.adapters.store import migrate
from trader.adapters.store.sql.uow import Database
from trader.core.domain.enums import OrderPurpose, OrderType, Side
from trader.core.domain.ids import PositionId, Symbol, client_order_id
from trader.core.domain.market import MarketSpec
from trader.core.domain.orders import OrderRequest
from trader.core.sim.costs import FeeModel
from trader.ports.store import UnitOfWorkFactory
from trader.runtime.clock import SimClock

BTC = Symbol("BTC/USDT")
START_MS = 1_704_067_200_000
WINDOW = 200  # candles per measured window


def market() -> MarketSpec:
    """Return a BTC/USDT spot market with Binance-like precision."""
    return MarketSpec(symbol=BTC, base="BTC", quote="USDT", amount_step=Decimal("0.00001"),
                      price_step=Decimal("0.01"), min_amount=Decimal("0.00001"), min_cost=Decimal(5))


def order(n: int) -> OrderRequest:
    """Return the n-th market order: buys and sells in turn, one position per pair."""
    position = PositionId(f"p{n // 2}")
    purpose = OrderPurpose.ENTRY if n % 2 == 0 else OrderPurpose.EXIT
    return OrderRequest(client_order_id=client_order_id(position, purpose, 0), position_id=position,
                        symbol=BTC, side=Side.BUY if n % 2 == 0 else Side.SELL, type=OrderType.MARKET,
                        purpose=purpose, amount=Decimal("0.01"))


class Meter:
    """Saves through ``PaperStateStore`` (or whole snapshots) and records each save's ms and bytes."""

    def __init__(self, uow: UnitOfWorkFactory, whole: bool, account: list[PaperExchange]) -> None:
        self.store = PaperStateStore(uow, SimClock(datetime(2024, 1, 1, tzinfo=UTC)))
        self.uow, self.whole, self.account = uow, whole, account
        self.saves: list[tuple[float, int]] = []

    async def save(self, changes: PaperChanges) -> None:
        """Save and record the cost."""
        began = time.perf_counter()
        if self.whole:
            snapshot = self.account[0].snapshot()
            size = len(json.dumps(snapshot))
            async with self.uow() as uow:
                await uow.paper_account.save("paper:whole", snapshot, [], [], datetime.now(UTC))
                await uow.commit()
        else:
            size = len(json.dumps([changes.core, changes.fills, changes.finished]))
            await self.store.save(changes)
        self.saves.append(((time.perf_counter() - began) * 1000, size))


async def run(url: str, fills: int, whole: bool) -> None:
    """Replay until ``fills`` fills and print the first and the last window."""
    await migrate.upgrade_async(url)
    database = Database.from_url(url)
    holder: list[PaperExchange] = []
    meter = Meter(database.uow, whole, holder)
    paper = PaperExchange([market()], quote="USDT", balances={"USDT": Decimal(10_000_000)},
                          costs=PaperCosts(FeeModel.flat(Decimal("0.001"))), saver=meter.save)
    holder.append(paper)
    windows: list[tuple[int, float, float, float]] = []
    print(f"{'whole snapshot' if whole else 'incremental'} saves, {url.split(':', maxsplit=1)[0]}:")
    print(f"  {'fills':>7} {'candles/s':>10} {'ms/save':>8} {'bytes/save':>11}", flush=True)
    began, n = time.perf_counter(), 0
    try:
        while True:
            price = 40_000.0 + (n % 100)
            paper.on_candle(BTC, "1m", (START_MS + n * 60_000, price, price + 5, price - 5, price, 1.0))
            await paper.persist()  # the replay driver saves after each feed
            await paper.place(order(n))
            n += 1
            if n % WINDOW == 0:
                now = time.perf_counter()
                recent = meter.saves[-2 * WINDOW:]
                windows.append((len(await paper.fills_since(BTC, datetime(2000, 1, 1, tzinfo=UTC))),
                                WINDOW / (now - began), sum(ms for ms, _ in recent) / len(recent),
                                sum(size for _, size in recent) / len(recent)))
                began = now
                if windows[-1][0] >= fills or whole or len(windows) in (1, 5) or len(windows) % 10 == 0:
                    _row(*windows[-1])  # as it goes: a slow (whole snapshot) run still shows its trend
                if windows[-1][0] >= fills:
                    break
    finally:
        await database.dispose()


def _row(fills_done: int, rate: float, ms: float, size: float) -> None:
    print(f"  {fills_done:>7,} {rate:>10.1f} {ms:>8.2f} {size:>11,.0f}", flush=True)


def main() -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fills", type=int, default=10_000)
    parser.add_argument("--whole", action="store_true", help="save whole snapshots (the old way)")
    parser.add_argument("--pg", help="PostgreSQL asyncpg URL instead of a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.pg or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        asyncio.run(run(url, args.fills, args.whole))


if __name__ == "__main__":
    main()
