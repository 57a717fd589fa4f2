"""EngineState: everything ``step`` remembers between calls, as frozen data the store can persist.

Mappings are never mutated: ``step`` builds new dicts and a new EngineState on every change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from trader.core.domain.ids import ClientOrderId, PositionId, Symbol
from trader.core.engine.orders import OrderRef
from trader.core.engine.pair_groups import GroupPosition
from trader.core.positions.state import Position
from trader.core.risk.state import RiskState

HISTORY_LENGTH = 200  # closed-trade PnLs kept per strategy for Kelly sizing


@dataclass(frozen=True, slots=True)
class EngineState:
    """Active positions and pair groups, the orders we asked for, risk memory, and the id sequence."""

    positions: Mapping[PositionId, Position] = field(default_factory=dict)  # not yet terminal
    orders: Mapping[ClientOrderId, OrderRef] = field(default_factory=dict)  # not yet terminal
    risk: RiskState = field(default_factory=RiskState)
    history: tuple[Decimal, ...] = ()  # PnL of recent closed trades, oldest first
    sequence: int = 0  # positions opened so far; part of each new position id
    entries_blocked: str = ""  # non-empty: every entry is refused (reconciliation found a difference)
    groups: Mapping[str, GroupPosition] = field(default_factory=dict)  # pair groups not yet settled

    def positions_for(self, symbol: Symbol) -> list[Position]:
        """Return the active positions of one pair."""
        return [p for p in self.positions.values() if p.symbol == symbol]

    @property
    def open_count(self) -> int:
        """Return how many positions are active."""
        return len(self.positions)
