"""Closed candles per (pair, timeframe) from the exchange port, cached so a tick fetches only what is new."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from trader.core.domain.candles import CandleFrame, datetime_to_ms, ms_to_datetime, timeframe_ms
from trader.core.domain.ids import Symbol
from trader.ports.exchange import Exchange

MAX_PAGES = 20  # one tick never pages more than this (a long outage is backfilled by market_data)


class CandleCache:
    """Keep the last ``need`` closed candles per (pair, timeframe); refetch from the newest cached one."""

    def __init__(self, exchange: Exchange, spare: int = 10) -> None:
        self._exchange = exchange
        self._spare = spare
        self._frames: dict[tuple[Symbol, str], CandleFrame] = {}

    async def closed(self, symbol: Symbol, timeframe: str, need: int, now: datetime) -> CandleFrame:
        """Return up to ``need`` candles that closed at or before ``now``, oldest first."""
        tf = timeframe_ms(timeframe)
        now_ms = datetime_to_ms(now)
        key = (symbol, timeframe)
        frame = self._frames.get(key)
        since_ms = now_ms - (need + 2) * tf if frame is None or len(frame) == 0 else int(frame.timestamp[-1])
        for _ in range(MAX_PAGES):
            page = await self._exchange.candles(symbol, timeframe, ms_to_datetime(since_ms))
            if len(page) == 0:
                break
            frame = page if frame is None else _merge(frame, page)
            last = int(page.timestamp[-1])
            if last + tf >= now_ms or last <= since_ms:  # reached the open candle, or no progress
                break
            since_ms = last
        if frame is None:
            return CandleFrame.from_arrays(np.empty((0, 6)))
        frame = frame.tail(need + self._spare)
        self._frames[key] = frame
        return frame.closed_before(now_ms, timeframe).tail(need)


def _merge(old: CandleFrame, new: CandleFrame) -> CandleFrame:
    """Return ``old`` up to ``new``'s first candle, then ``new`` (newer data overwrites)."""
    keep = int(np.searchsorted(old.timestamp, new.timestamp[0], side="left"))
    head = old.slice(0, keep)
    return CandleFrame(*(np.concatenate([getattr(head, c), getattr(new, c)])
                         for c in ("timestamp", "open", "high", "low", "close", "volume")))
