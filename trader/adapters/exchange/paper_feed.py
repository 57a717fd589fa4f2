"""Drive a PaperExchange: replay stored candles at a chosen speed (demo), or poll live public prices.

Both save the paper account after every price that produced fills, so a restart resumes from there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from trader.adapters.exchange.paper_venue import PaperExchange
from trader.adapters.exchange.retry import Sleep
from trader.core.domain.candles import CandleFrame, ms_to_datetime, timeframe_ms
from trader.core.domain.ids import Symbol
from trader.core.domain.orders import Fill
from trader.core.errors import RetryableError
from trader.ports.clock import Clock

logger = logging.getLogger(__name__)
OnCandle = Callable[[datetime, list[Fill]], Awaitable[None]]


class PriceSource(Protocol):
    """Anything with a last price (a key-less CcxtExchange)."""

    async def last_price(self, symbol: Symbol) -> Decimal: ...


class CandleReplay:
    """Feed ``frame`` to the paper exchange candle by candle; ``speed`` = simulated seconds per second."""

    def __init__(self, paper: PaperExchange, symbol: Symbol, timeframe: str, frame: CandleFrame,
                 *, speed: float, sleep: Sleep = asyncio.sleep) -> None:
        if speed <= 0:
            raise ValueError("replay speed must be positive")
        self._paper = paper
        self._symbol = symbol
        self._timeframe = timeframe
        self._frame = frame
        self._pause = timeframe_ms(timeframe) / 1000 / speed
        self._sleep = sleep
        self.position = 0  # index of the next candle to feed; persist it to resume a replay

    @property
    def done(self) -> bool:
        """Return True once every candle has been fed."""
        return self.position >= len(self._frame)

    async def step(self) -> tuple[datetime, list[Fill]]:
        """Feed the next candle; return its close time and the fills it caused."""
        if self.done:
            raise IndexError("replay finished")
        f, i = self._frame, self.position
        row = (int(f.timestamp[i]), float(f.open[i]), float(f.high[i]), float(f.low[i]), float(f.close[i]),
               float(f.volume[i]))
        fills = self._paper.on_candle(self._symbol, self._timeframe, row)
        self.position += 1
        await self._paper.persist()
        return ms_to_datetime(row[0] + timeframe_ms(self._timeframe)), fills

    async def run(self, on_candle: OnCandle | None = None, limit: int | None = None) -> int:
        """Feed candles (all, or ``limit``), pausing between them; ``on_candle`` runs after each."""
        fed = 0
        while not self.done and (limit is None or fed < limit):
            closed_at, fills = await self.step()
            fed += 1
            if on_candle is not None:
                await on_candle(closed_at, fills)
            await self._sleep(self._pause)
        return fed


async def poll_prices(
    paper: PaperExchange,
    source: PriceSource,
    symbols: Sequence[Symbol],
    clock: Clock,
    *,
    interval: float,
    stop: asyncio.Event,
    sleep: Sleep = asyncio.sleep,
) -> None:
    """Feed live public prices to the paper exchange every ``interval`` seconds until ``stop`` is set."""
    while not stop.is_set():
        for symbol in symbols:
            try:
                price = await source.last_price(symbol)
            except RetryableError as exc:
                logger.warning("paper price poll for %s failed: %s", symbol, exc)
                continue
            if paper.on_price(symbol, price, clock.now()):
                await paper.persist()
        await sleep(interval)
