"""In-memory state behind the service test double; every mutation is counted."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from trader.adapters.store.memory.uow import MemoryStore
from trader.core.domain.enums import Direction, ExitReason, ProtectionKind, TradingState
from trader.core.domain.ids import Symbol
from trader.core.domain.market import MarketSpec
from trader.core.positions.pnl import price_gain
from trader.services.dto import (
    LockView,
    PositionView,
    TradeView,
)
from trader.services.pair_dto import PairGroupView

NOW = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)
MARKETS = {
    "BTC/USDT": MarketSpec(
        Symbol("BTC/USDT"),
        "BTC",
        "USDT",
        Decimal("0.00001"),
        Decimal("0.01"),
        min_amount=Decimal("0.00001"),
        min_cost=Decimal(5),
    ),
    "ETH/USDT": MarketSpec(
        Symbol("ETH/USDT"),
        "ETH",
        "USDT",
        Decimal("0.0001"),
        Decimal("0.01"),
        min_amount=Decimal("0.0001"),
        min_cost=Decimal(5),
    ),
}
STRATEGIES = ("breakout", "bollinger_reversion")


@dataclass
class Setting:
    """One tunable parameter with its bounds (exclusive low, inclusive high)."""

    value: Decimal
    low: Decimal
    high: Decimal


@dataclass
class MemoryState:
    """Everything the services read and change; ``changes`` counts every mutation."""

    state: TradingState = TradingState.ACTIVE
    halted_reason: str | None = None
    cash: Decimal = Decimal(10_000)
    prices: dict[str, Decimal] = field(
        default_factory=lambda: {"BTC/USDT": Decimal(60_000), "ETH/USDT": Decimal(3_000)}
    )
    positions: dict[str, PositionView] = field(default_factory=dict)
    pair_groups: list[PairGroupView] = field(default_factory=list)
    trades: list[TradeView] = field(default_factory=list)
    locks: dict[str, LockView] = field(default_factory=dict)
    settings: dict[str, Setting] = field(
        default_factory=lambda: {
            "risk.risk_per_trade": Setting(Decimal("0.01"), Decimal(0), Decimal("0.1")),
            "risk.max_open_positions": Setting(Decimal(5), Decimal(0), Decimal(50)),
            "breakout.period": Setting(Decimal(20), Decimal(1), Decimal(500)),
        }
    )
    audit: list[tuple[str, str, str, str]] = field(default_factory=list)
    logs: list[str] = field(
        default_factory=lambda: [f"2024-07-01 12:00:{i:02d} INFO tick ok" for i in range(60)]
    )
    changes: int = 0
    next_id: int = 1
    store: MemoryStore = field(default_factory=MemoryStore)  # for the real services run in memory (news)

    def changed(self) -> None:
        """Count one mutation."""
        self.changes += 1

    def open_position(
        self,
        pair: str,
        amount: Decimal,
        entry: Decimal,
        *,
        stop: Decimal | None = None,
        take_profit: Decimal | None = None,
        trailing: bool = False,
    ) -> PositionView:
        """Add an open long position (test set-up and /buy)."""
        pid = f"P{self.next_id}"
        self.next_id += 1
        view = PositionView(
            pid,
            pair,
            Direction.LONG,
            amount,
            entry,
            self.prices[pair],
            Decimal(0),
            Decimal(0),
            stop,
            take_profit,
            trailing,
            ProtectionKind.NATIVE,
            NOW,
            "breakout",
            Decimal("0.03") if trailing else None,
        )
        self.positions[pid] = self.marked(view)
        self.cash -= amount * entry
        return self.positions[pid]

    def marked(self, p: PositionView) -> PositionView:
        """Return ``p`` with the current price and unrealised PnL."""
        mark = self.prices[p.pair]
        pnl = price_gain(p.direction, p.entry_price, mark, p.amount)
        return replace(p, current_price=mark, pnl=pnl, pnl_fraction=pnl / (p.entry_price * p.amount))

    def add_trades(self, count: int) -> None:
        """Add ``count`` closed trades alternating win/loss and pair, one per day back from NOW."""
        for i in range(count):
            pair = "BTC/USDT" if i % 2 == 0 else "ETH/USDT"
            pnl = Decimal(25 + i) if i % 3 else Decimal(-(10 + i))
            closed = NOW - timedelta(days=i)
            self.trades.append(
                TradeView(
                    f"T{i + 1}",
                    pair,
                    Direction.LONG,
                    Decimal("0.01"),
                    Decimal(100),
                    Decimal(100) + pnl,
                    pnl,
                    pnl / Decimal(1000),
                    closed - timedelta(hours=5),
                    closed,
                    ExitReason.TAKE_PROFIT if pnl > 0 else ExitReason.STOP_LOSS,
                    "breakout",
                )
            )
