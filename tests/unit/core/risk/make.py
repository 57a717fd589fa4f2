"""Builders for the risk tests: a BTC/USDT market, an account, a request, a config."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from trader.config.sections import RiskConfig
from trader.core.domain.account import AccountSnapshot
from trader.core.domain.entries import EntryRequest
from trader.core.domain.enums import Direction
from trader.core.domain.ids import PositionId, Symbol
from trader.core.domain.market import Capabilities, MarketSpec
from trader.core.positions.state import Position, PositionStatus

NOW = datetime(2024, 7, 1, 12, tzinfo=UTC)
BTC = Symbol("BTC/USDT")


def market(**kw: Any) -> MarketSpec:
    """Return BTC/USDT with 0.00001 amount step, 0.01 tick, min 5 USDT, 0.1 % taker fee."""
    base: dict[str, Any] = dict(symbol=BTC, base="BTC", quote="USDT", amount_step=Decimal("0.00001"),
                                price_step=Decimal("0.01"), min_amount=Decimal("0.0001"),
                                min_cost=Decimal(5), capabilities=Capabilities(shorting=True))
    base.update(kw)
    return MarketSpec(**base)


def account(equity: str = "10000", free: str | None = None, exposure: str = "0") -> AccountSnapshot:
    """Return a USDT account snapshot."""
    return AccountSnapshot("USDT", Decimal(equity), Decimal(free if free is not None else equity),
                           Decimal(exposure))


def request(entry: str = "60000", stop: str | None = "58800", direction: Direction = Direction.LONG,
            confidence: float = 1.0, symbol: str = "BTC/USDT") -> EntryRequest:
    """Return an entry request (long, 2 % stop by default)."""
    return EntryRequest(Symbol(symbol), direction, Decimal(entry), Decimal(stop) if stop else None,
                        "breakout", confidence=confidence)


def config(**kw: Any) -> RiskConfig:
    """Return a RiskConfig with generous caps unless overridden (so sizing rules show through)."""
    base: dict[str, Any] = dict(max_position_pct=Decimal(1), max_exposure_pct=Decimal(1),
                                expected_slippage=Decimal(0))
    base.update(kw)
    return RiskConfig(**base)


def position(symbol: str = "BTC/USDT", status: PositionStatus = PositionStatus.OPEN, amount: str = "0.01",
             price: str = "60000", pid: str = "p") -> Position:
    """Return an open (by default) position holding ``amount`` at ``price``."""
    return Position(id=PositionId(pid), symbol=Symbol(symbol), strategy="s", direction=Direction.LONG,
                    status=status, amount=Decimal(amount), filled=Decimal(amount),
                    entry_executed=Decimal(amount), entry_price=Decimal(price))
