"""What the engine remembers between cycles besides positions and risk state: a value the store keeps.

Positions and the risk state have repositories of their own (queries and reports read them); the rest
is only the engine's: its order references, the closed-trade results Kelly sizing reads, the id
sequence, the reconciliation entry block, the command outbox, the venue fill cursors and the
pair groups (a group's legs are no positions: the group is the engine's alone).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from trader.core.domain.commands import Command
from trader.core.domain.ids import ClientOrderId, Symbol
from trader.core.engine.orders import OrderRef
from trader.core.engine.pair_groups import GroupPosition


@dataclass(frozen=True, slots=True)
class EngineMemory:
    """The engine's own memory; ``outbox`` holds commands persisted before sending, until executed."""

    orders: Mapping[ClientOrderId, OrderRef] = field(default_factory=dict)
    history: tuple[Decimal, ...] = ()
    sequence: int = 0
    entries_blocked: str = ""
    outbox: tuple[Command, ...] = ()
    fill_cursors: Mapping[Symbol, datetime] = field(default_factory=dict)  # venue time of the last fill
    groups: Mapping[str, GroupPosition] = field(default_factory=dict)  # pair groups not yet settled
