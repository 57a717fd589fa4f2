"""Replay driver details: coarser strategy timeframes tick on their own closes over the finer feed."""

from __future__ import annotations

import re

from tests.fixtures.live_runtime import MakeRuntime
from trader.config import StrategyEntry


async def test_a_4h_strategy_ticks_every_fourth_1h_candle(make_runtime: MakeRuntime) -> None:
    live = await make_runtime(strategies=(StrategyEntry(name="breakout", timeframe="4h"),))
    trading = live.runtime.lifecycle.parts.engine.trading
    ticks = []
    for _ in range(12):
        await live.advance(1)
        if trading.last_tick_at is not None and trading.last_tick_at not in ticks:
            ticks.append(trading.last_tick_at)
    assert 2 <= len(ticks) <= 3 and all(t.hour % 4 == 0 and t.minute == 0 for t in ticks)
    assert live.driver.fed == 12


async def test_the_first_replayed_candles_lead_to_an_entry(make_runtime: MakeRuntime) -> None:
    live = await make_runtime(strategies=("breakout", "bollinger_reversion"))
    position = await live.open_position(limit=6)  # the replay starts three candles before a signal
    assert position.filled > 0 and position.stop_price is not None


async def test_replay_logs_progress_once_per_simulated_day(make_runtime: MakeRuntime, caplog) -> None:  # type: ignore[no-untyped-def]
    live = await make_runtime(strategies=("breakout",))
    with caplog.at_level("INFO", logger="trader.runtime.replay"):
        await live.advance(49)
    days = [r.getMessage() for r in caplog.records if "fill(s) so far" in r.getMessage()]
    assert len(days) in (2, 3) and all("equity" in d and "USDT" in d for d in days)
    # money with thousands separators to the cent, like every other output: "equity 10,075.73 USDT"
    assert all(re.search(r", equity \d{1,3}(,\d{3})*\.\d\d USDT, ", d) for d in days), days
