"""Load and save the engine's state through the unit of work: positions, orders, risk memory, outbox.

Positions go to the position repository and the risk state to the risk repository (what queries and
reports read). What only the engine needs (``EngineMemory``: its order refs, the trade history for
Kelly sizing, the id sequence, the reconciliation entry block, the command outbox and the fill
cursors) goes to the engine-state repository in the same transaction, so a restart resumes exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from trader.core.domain.commands import Command
from trader.core.domain.ids import Symbol
from trader.core.engine.memory import EngineMemory
from trader.core.engine.state import EngineState
from trader.core.positions.state import Position
from trader.core.risk.state import RiskState
from trader.ports.store import TradingUnitOfWork


@dataclass(frozen=True, slots=True)
class EngineSnapshot:
    """The engine state plus what the service must resume: unexecuted commands and fill cursors."""

    state: EngineState = field(default_factory=EngineState)
    outbox: tuple[Command, ...] = ()  # persisted before sending; removed once executed
    fill_cursors: Mapping[Symbol, datetime] = field(default_factory=dict)  # venue time of the last fill


async def load(uow: TradingUnitOfWork) -> EngineSnapshot:
    """Return the stored snapshot (an empty one before the first save)."""
    memory = await uow.engine.get() or EngineMemory()
    positions = {p.id: p for p in await uow.positions.unfinished()}
    risk = await uow.risk.get() or RiskState()
    state = EngineState(positions=positions, orders=dict(memory.orders), risk=risk, history=memory.history,
                        sequence=memory.sequence, entries_blocked=memory.entries_blocked,
                        groups=dict(memory.groups))
    return EngineSnapshot(state, memory.outbox, dict(memory.fill_cursors))


async def save(uow: TradingUnitOfWork, snapshot: EngineSnapshot, now: datetime,
               finished: Iterable[Position] = (), before: EngineState | None = None) -> None:
    """Write the snapshot (and the positions that just finished) inside the caller's transaction.

    With ``before`` (the state as last stored), only positions and risk memory that changed are written.
    """
    state = snapshot.state
    for position in (*finished, *state.positions.values()):
        if before is None or before.positions.get(position.id) != position:
            await uow.positions.save(position)
    if before is None or before.risk != state.risk:
        await uow.risk.save(state.risk)
    await uow.engine.save(EngineMemory(state.orders, state.history, state.sequence, state.entries_blocked,
                                       snapshot.outbox, snapshot.fill_cursors, state.groups), now)
