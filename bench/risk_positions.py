"""Benchmark the per-event cost of the pure risk and position rules (what a backtest pays per trade).

Run: .venv/bin/python bench/risk_positions.py [--number 20000] [--repeat 5]
Prints the best of ``repeat`` timeit runs in microseconds per call for risk.check (approval and an
early refusal), positions.apply for the common events (entry fill, candle with trailing move,
candle with nothing to do, stop fill) and open_position, plus the cost of one whole trade
(check + open + fill + 3 candles that each move the trailing stop + exit fill) times 10,000 trades.
Timed with process CPU time, so other processes on a shared machine disturb the figures less.
"""

from __future__ import annotations

import argparse
import time
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from trader.config.sections import RiskConfig, TrailingConfig
from trader.core.domain.account import AccountSnapshot
from trader.core.domain.entries import Approved, EntryRequest
from trader.core.domain.enums import Direction, TradingState
from trader.core.domain.ids import PositionId, Symbol
from trader.core.domain.market import Capabilities, MarketSpec
from trader.core.positions import position_events as ev
from trader.core.positions.machine import apply
from trader.core.positions.opening import open_position
from trader.core.positions.protection import PositionContext
from trader.core.risk.check import check
from trader.core.risk.state import RiskState

D = Decimal
NOW = datetime(2024, 7, 1, 12, tzinfo=UTC)
MARKET = MarketSpec(Symbol("BTC/USDT"), "BTC", "USDT", amount_step=D("0.00001"), price_step=D("0.01"),
                    min_amount=D("0.0001"), min_cost=D(5), capabilities=Capabilities(native_stop=True))
CTX = PositionContext(MARKET, TrailingConfig(enabled=True, distance=D("0.03"), min_step=D("0.001")))
CFG = RiskConfig()
ACCOUNT = AccountSnapshot("USDT", D(10_000), D(10_000))
REQUEST = EntryRequest(Symbol("BTC/USDT"), Direction.LONG, D(60_000), D(58_800), "bench")
STATE = RiskState()
HALTED = RiskState(trading_state=TradingState.HALTED)


def _trade() -> None:
    decision = check(REQUEST, ACCOUNT, STATE, [], MARKET, CFG, history=(), now=NOW)
    assert isinstance(decision, Approved)
    p, _ = open_position(PositionId("p"), REQUEST, decision, NOW, CTX)
    p, _ = apply(p, ev.EntryFilled(decision.amount, D(60_000), D("0.1")), CTX)
    for high in (D(60_500), D(62_000), D(61_000)):
        p, _ = apply(p, ev.PriceUpdated(high, high - D(800), high - D(300)), CTX)
    p, _ = apply(p, ev.StopFilled(p.open_amount, D(59_000), D("0.1")), CTX)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--number", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    approved = check(REQUEST, ACCOUNT, STATE, [], MARKET, CFG, history=(), now=NOW)
    assert isinstance(approved, Approved)
    pending, _ = open_position(PositionId("p"), REQUEST, approved, NOW, CTX)
    opened, _ = apply(pending, ev.EntryFilled(approved.amount, D(60_000), D("0.1")), CTX)
    rising = ev.PriceUpdated(D(62_000), D(61_000), D(61_800))
    quiet = ev.PriceUpdated(D(60_100), D(59_900), D(60_000))
    cases: list[tuple[str, Callable[[], object]]] = [
        ("risk.check -> Approved",
         lambda: check(REQUEST, ACCOUNT, STATE, [], MARKET, CFG, history=(), now=NOW)),
        ("risk.check -> Refused(halted)",
         lambda: check(REQUEST, ACCOUNT, HALTED, [], MARKET, CFG, history=(), now=NOW)),
        ("open_position", lambda: open_position(PositionId("p"), REQUEST, approved, NOW, CTX)),
        ("apply EntryFilled (opens, places stop)",
         lambda: apply(pending, ev.EntryFilled(approved.amount, D(60_000), D("0.1")), CTX)),
        ("apply PriceUpdated (trailing moves stop)", lambda: apply(opened, rising, CTX)),
        ("apply PriceUpdated (nothing to do)", lambda: apply(opened, quiet, CTX)),
        ("apply StopFilled (closes)",
         lambda: apply(opened, ev.StopFilled(opened.open_amount, D(58_800), D("0.1")), CTX)),
    ]
    print(f"{'operation':<44} {'us/call':>9}")
    for name, fn in cases:
        runs = timeit.repeat(fn, timer=time.process_time, number=args.number, repeat=args.repeat)
        best = min(runs) / args.number
        print(f"{name:<44} {best * 1e6:>9.2f}")
    per_trade = min(timeit.repeat(_trade, timer=time.process_time, number=args.number // 10,
                                  repeat=args.repeat)) / (args.number // 10)
    print(f"{'one trade (check+open+fill+3 candles+exit)':<44} {per_trade * 1e6:>9.2f}")
    print(f"{'10,000 trades, seconds':<44} {per_trade * 10_000:>9.3f}")


if __name__ == "__main__":
    main()
