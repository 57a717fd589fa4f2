"""The runner's event queue: what can happen to one pair next, ordered by time then phase.

At one instant the close of a candle (phase 0: signals, trailing, exit decisions) comes before the
fills at the next candle's open and inside it (phase 1), exactly as a live engine sees them.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Final

from trader.core.domain.ids import Symbol

CLOSE_PHASE: Final = 0
FILL_PHASE: Final = 1


@dataclass(frozen=True, slots=True)
class Candidate:
    """An entry signal on candle ``index``'s close for a flat pair."""

    index: int


@dataclass(frozen=True, slots=True)
class CloseDecision:
    """On candle ``index``'s close the open position may exit (signal, or stop ratcheted past close).

    ``stop``/``high_water`` are the kernel's levels when that candle opened.
    """

    index: int
    stop: float
    high_water: float


@dataclass(frozen=True, slots=True)
class MarketFill:
    """The pair's market orders fill at candle ``index``'s open."""

    index: int


@dataclass(frozen=True, slots=True)
class ProtectiveExit:
    """The resting stop/take-profit fills inside candle ``index`` (kernel code, raw price, levels)."""

    index: int
    code: int
    price: float
    stop: float
    high_water: float


Payload = Candidate | CloseDecision | MarketFill | ProtectiveExit


class EventQueue:
    """A heap of pair events; ``pop_batch`` returns every event of the earliest (time, phase)."""

    def __init__(self) -> None:
        # (time, phase, sequence, symbol, payload): the unique sequence settles ties before the payload
        # would be compared, and plain tuples keep the heap's comparisons in C.
        self._heap: list[tuple[int, int, int, Symbol, Payload]] = []
        self._seq = 0

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, time_ms: int, phase: int, symbol: Symbol, payload: Payload) -> None:
        """Queue ``payload`` for ``symbol`` at ``time_ms`` in ``phase``."""
        self._seq += 1
        heapq.heappush(self._heap, (time_ms, phase, self._seq, symbol, payload))

    def pop_batch(self) -> tuple[int, int, list[tuple[Symbol, Payload]]]:
        """Return (time, phase, events) for the earliest instant, sorted by pair (as a live engine
        iterating its pairs in order would see them)."""
        time_ms, phase, _, symbol, payload = heapq.heappop(self._heap)
        batch = [(symbol, payload)]
        while self._heap and self._heap[0][0] == time_ms and self._heap[0][1] == phase:
            _, _, _, symbol, payload = heapq.heappop(self._heap)
            batch.append((symbol, payload))
        batch.sort(key=lambda pair_event: pair_event[0])
        return time_ms, phase, batch
