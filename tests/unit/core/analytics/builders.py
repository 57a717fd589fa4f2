"""Small real-object builders for the analytics tests (trades and a rule-based BTC trade list)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from trader.core.analytics.records import TradeRecord
from trader.core.domain.enums import Direction
from trader.core.domain.money import D

T0 = datetime(2024, 1, 1, tzinfo=UTC)
SAMPLE = Path(__file__).resolve().parents[4] / "trader" / "data" / "sample"


def trade(pnl: str, *, symbol: str = "BTC/USDT", strategy: str = "breakout", hours: float = 0,
          held: float = 1, fees: str = "0", direction: Direction = Direction.LONG,
          reason: str = "take_profit") -> TradeRecord:
    """Return a trade entered ``hours`` after T0 and held ``held`` hours with the given net PnL."""
    entry = T0 + timedelta(hours=hours)
    return TradeRecord(
        symbol=symbol, strategy=strategy, direction=direction, entry_time=entry,
        exit_time=entry + timedelta(hours=held), entry_price=Decimal(100), exit_price=Decimal(101),
        amount=Decimal(1), fees=Decimal(fees), pnl=Decimal(pnl), exit_reason=reason, confidence=0.5,
    )


@functools.cache
def btc_rule_backtest(cash: float = 10_000.0,
                      fee_rate: float = 0.001) -> tuple[tuple[TradeRecord, ...], pd.Series]:
    """Run an SMA-cross rule on the bundled BTC 1h candles; return trades and the hourly equity curve."""
    df = pd.read_csv(SAMPLE / "BTC_USDT-1h.csv.gz")
    close = df["close"].to_numpy(dtype=np.float64)
    times = pd.to_datetime(df["timestamp"], unit="ms", utc=True)
    sma = pd.Series(close).rolling(24).mean().to_numpy()
    trades: list[TradeRecord] = []
    equity = np.empty(len(close))
    amount = 0.0
    entry_i = -1
    entry_fee = 0.0
    for i, price in enumerate(close):
        if amount == 0 and i >= 24 and price > sma[i]:
            amount, entry_i = round(cash * 0.5 / price, 5), i
            entry_fee = amount * price * fee_rate
            cash -= amount * price + entry_fee
        elif amount > 0 and price < sma[i]:
            exit_fee = amount * price * fee_rate
            cash += amount * price - exit_fee
            pnl = amount * (price - close[entry_i]) - entry_fee - exit_fee
            trades.append(TradeRecord(
                symbol="BTC/USDT", strategy="sma" if i % 2 else "sma_alt", direction=Direction.LONG,
                entry_time=times[entry_i].to_pydatetime(), exit_time=times[i].to_pydatetime(),
                entry_price=D(float(close[entry_i])), exit_price=D(float(price)),
                amount=D(float(amount)), fees=D(float(entry_fee + exit_fee)),
                pnl=D(float(pnl)), exit_reason="signal", confidence=None))
            amount = 0.0
        equity[i] = cash + amount * price
    return tuple(trades), pd.Series(equity, index=pd.DatetimeIndex(times), name="equity")
