"""Load and save the engine's state through the unit of work: positions, orders, risk memory, outbox.

Positions go to the position repository and the risk state to the risk repository (what queries and
reports read). What only the engine needs (its order refs, the trade history for Kelly sizing, the id
sequence, the reconciliation entry block, the command outbox and the fill cursors) is one JSON document in the
store's key/value repository, written in the same transaction, so a restart resumes exactly.

The codec is hand-written (about 60 lines) because the values are our own frozen dataclasses with
Decimal, datetime and enum fields, and JSON must keep Decimals exact (as strings).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from trader.core.domain.commands import CancelOrder, Command, PlaceOrder, ReplaceStop
from trader.core.domain.enums import OrderPurpose, OrderType, Side
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol
from trader.core.domain.orders import OrderRequest
from trader.core.engine.orders import OrderRef
from trader.core.engine.state import EngineState
from trader.core.errors import StoreError
from trader.core.positions.state import Position
from trader.core.risk.state import RiskState
from trader.ports.store import TradingUnitOfWork

_T = TypeVar("_T")
ENGINE_KEY = "engine:state"
DOC_VERSION = 1


@dataclass(frozen=True, slots=True)
class EngineSnapshot:
    """The engine state plus what the service must resume: unexecuted commands and fill cursors."""

    state: EngineState = field(default_factory=EngineState)
    outbox: tuple[Command, ...] = ()  # persisted before sending; removed once executed
    fill_cursors: Mapping[Symbol, datetime] = field(default_factory=dict)  # venue time of the last fill


async def load(uow: TradingUnitOfWork) -> EngineSnapshot:
    """Return the stored snapshot (an empty one before the first save)."""
    doc = await uow.paper.get(ENGINE_KEY)
    positions = {p.id: p for p in await uow.positions.unfinished()}
    risk = await uow.risk.get() or RiskState()
    if doc is None:
        return EngineSnapshot(EngineState(positions=positions, risk=risk))
    if doc.get("version") != DOC_VERSION:
        raise StoreError(f"engine state document version {doc.get('version')} is not {DOC_VERSION}")
    orders = {ClientOrderId(cid): _decode(OrderRef, raw) for cid, raw in doc["orders"].items()}
    state = EngineState(
        positions=positions, orders=orders, risk=risk,
        history=tuple(Decimal(x) for x in doc["history"]), sequence=int(doc["sequence"]),
        entries_blocked=str(doc.get("entries_blocked", "")),
    )
    cursors = {Symbol(s): datetime.fromisoformat(t) for s, t in doc["fill_cursors"].items()}
    outbox = tuple(decode_command(c) for c in doc["outbox"])
    return EngineSnapshot(state, outbox, cursors)


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
    doc = {
        "version": DOC_VERSION,
        "orders": {cid: _encode(ref) for cid, ref in state.orders.items()},
        "history": [str(x) for x in state.history],
        "sequence": state.sequence,
        "outbox": [encode_command(c) for c in snapshot.outbox],
        "fill_cursors": {s: t.isoformat() for s, t in snapshot.fill_cursors.items()},
        "entries_blocked": state.entries_blocked,
    }
    await uow.paper.put(ENGINE_KEY, doc, now)


# ── codec ────────────────────────────────────────────────────────────────────────────────────
_ENUMS: dict[str, type[Enum]] = {"purpose": OrderPurpose, "order_type": OrderType, "type": OrderType,
                                 "side": Side}
_DECIMALS = {"take_profit", "amount", "price", "trigger_price"}
_IDS: dict[str, Any] = {"position_id": PositionId, "client_order_id": ClientOrderId, "symbol": Symbol}


def _encode(value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(value):
        item = getattr(value, f.name)
        if isinstance(item, Enum):
            item = item.value
        elif isinstance(item, Decimal):
            item = str(item)
        out[f.name] = item
    return out


def _decode_field(key: str, item: Any) -> Any:
    if item is None:
        return None
    if key in _ENUMS:
        return _ENUMS[key](item)
    if key in _DECIMALS:
        return Decimal(item)
    if key in _IDS:
        return _IDS[key](item)
    return item


def _decode(cls: type[_T], data: Mapping[str, Any]) -> _T:
    return cls(**{k: _decode_field(k, v) for k, v in data.items()})


def encode_command(command: Command) -> dict[str, Any]:
    """Return a JSON-ready dict of a command."""
    if isinstance(command, PlaceOrder):
        return {"kind": "place", "request": _encode(command.request)}
    if isinstance(command, ReplaceStop):
        return {"kind": "replace", "symbol": command.symbol, "cancel": command.cancel_client_order_id,
                "request": _encode(command.request)}
    return {"kind": "cancel", "symbol": command.symbol, "cancel": command.client_order_id}


def decode_command(data: Mapping[str, Any]) -> Command:
    """Return the command encoded by ``encode_command``."""
    kind = data["kind"]
    if kind == "place":
        return PlaceOrder(_decode(OrderRequest, data["request"]))
    if kind == "replace":
        return ReplaceStop(Symbol(data["symbol"]), ClientOrderId(data["cancel"]),
                           _decode(OrderRequest, data["request"]))
    if kind == "cancel":
        return CancelOrder(Symbol(data["symbol"]), ClientOrderId(data["cancel"]))
    raise StoreError(f"unknown outbox command kind {kind!r}")
