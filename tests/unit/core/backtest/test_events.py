"""The runner's event queue: earliest instant first, closes before fills, pairs in order."""

from __future__ import annotations

from trader.core.backtest.event_queue import CLOSE_PHASE, FILL_PHASE, Candidate, EventQueue, MarketFill
from trader.core.domain.ids import Symbol

BTC, ETH = Symbol("BTC/USDT"), Symbol("ETH/USDT")


def test_close_phase_comes_before_fills_of_the_same_instant_and_pairs_are_sorted() -> None:
    queue = EventQueue()
    queue.push(2000, FILL_PHASE, BTC, MarketFill(5))
    queue.push(2000, CLOSE_PHASE, ETH, Candidate(4))
    queue.push(2000, CLOSE_PHASE, BTC, Candidate(4))
    queue.push(1000, FILL_PHASE, ETH, MarketFill(3))
    assert queue.pop_batch() == (1000, FILL_PHASE, [(ETH, MarketFill(3))])
    assert queue.pop_batch() == (2000, CLOSE_PHASE, [(BTC, Candidate(4)), (ETH, Candidate(4))])
    assert queue.pop_batch() == (2000, FILL_PHASE, [(BTC, MarketFill(5))])
    assert len(queue) == 0
