"""Typed repositories over the store's key/value document table (``paper_state``), with their codecs.

The engine's memory, the paper account, the /settings overrides, the venue account a live database
holds, each venue's circuit breaker and the replay cursor are small documents in one table, each
under its own key, so none of them needed a table (or a migration) of its own. Callers see typed
repositories; the keys and the JSON codecs are here, written once for the SQL and the in-memory side
(each supplies ``Documents``).

The engine codec is hand-written (about 60 lines) because the values are our own frozen dataclasses
with Decimal, datetime and enum fields, and JSON must keep Decimals exact (as strings).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Final, Protocol, TypeVar

from trader.adapters.store.group_codec import decode_group, encode_group
from trader.core.domain.commands import CancelOrder, Command, PlaceOrder, ReplaceStop
from trader.core.domain.enums import OrderPurpose, OrderType, Side
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol
from trader.core.domain.orders import OrderRequest
from trader.core.engine.memory import EngineMemory
from trader.core.engine.orders import OrderRef
from trader.core.errors import DataError, StoreError
from trader.core.risk.breaker import Breaker, BreakerState
from trader.ports.store import BreakerMemory, JsonValue, ReplayCursor, VenueAccount

_T = TypeVar("_T")
ENGINE_KEY: Final = "engine:state"
ENGINE_VERSION: Final = 1
OVERRIDES_KEY: Final = "settings:overrides"
ACCOUNT_KEY: Final = "venue_account"
CURSOR_KEY: Final = "replay:cursor"
BREAKER_KEY: Final = "breaker:"  # + venue name


class Documents(Protocol):
    """JSON documents by key, inside the unit of work's transaction."""

    async def get(self, key: str) -> JsonValue | None: ...
    async def put(self, key: str, data: JsonValue, now: datetime) -> None: ...
    async def scan(self, prefix: str) -> list[tuple[str, JsonValue]]: ...


class DocumentEngineState:
    """``EngineStateRepository`` as one versioned document."""

    def __init__(self, docs: Documents) -> None:
        self._docs = docs

    async def get(self) -> EngineMemory | None:
        """Return the stored memory, or None before the first save."""
        doc = await self._docs.get(ENGINE_KEY)
        if doc is None:
            return None
        if doc.get("version") != ENGINE_VERSION:
            raise StoreError(f"engine state document version {doc.get('version')} is not {ENGINE_VERSION}")
        return EngineMemory(
            orders={ClientOrderId(cid): _decode(OrderRef, raw) for cid, raw in doc["orders"].items()},
            history=tuple(Decimal(x) for x in doc["history"]), sequence=int(doc["sequence"]),
            entries_blocked=str(doc.get("entries_blocked", "")),
            outbox=tuple(decode_command(c) for c in doc["outbox"]),
            fill_cursors={Symbol(s): datetime.fromisoformat(t) for s, t in doc["fill_cursors"].items()},
            groups={g["id"]: decode_group(g) for g in doc.get("groups", ())},  # absent before pair groups
        )

    async def save(self, memory: EngineMemory, now: datetime) -> None:
        """Create or replace the memory."""
        await self._docs.put(ENGINE_KEY, {
            "version": ENGINE_VERSION,
            "orders": {cid: _encode(ref) for cid, ref in memory.orders.items()},
            "history": [str(x) for x in memory.history],
            "sequence": memory.sequence,
            "outbox": [encode_command(c) for c in memory.outbox],
            "fill_cursors": {s: t.isoformat() for s, t in memory.fill_cursors.items()},
            "entries_blocked": memory.entries_blocked,
            "groups": [encode_group(g) for g in memory.groups.values()],
        }, now)


class DocumentPaperAccount:
    """``PaperAccountRepository``: the core under the account's key, history items under numbered keys."""

    def __init__(self, docs: Documents) -> None:
        self._docs = docs

    async def core(self, account: str) -> JsonValue | None:
        """Return the account's core document, or None."""
        core = await self._docs.get(account)
        return None if core is None else _object(core)

    async def save(self, account: str, core: JsonValue, fills: Sequence[tuple[int, JsonValue]],
                   finished: Sequence[tuple[int, JsonValue]], now: datetime) -> None:
        """Write the new fills and finished orders, then the core."""
        for number, fill in fills:
            await self._docs.put(_item(account, "fill", number), fill, now)
        for number, order in finished:
            await self._docs.put(_item(account, "order", number), order, now)
        await self._docs.put(account, core, now)

    async def history(self, account: str) -> tuple[list[JsonValue], list[JsonValue]]:
        """Return (finished orders, fills) in numbering order."""
        orders = await self._docs.scan(f"{account}/order/")
        fills = await self._docs.scan(f"{account}/fill/")
        return [_object(doc) for _, doc in sorted(orders)], [_object(doc) for _, doc in sorted(fills)]


class DocumentSettings:
    """``SettingsRepository`` as one document of key -> value text."""

    def __init__(self, docs: Documents) -> None:
        self._docs = docs

    async def overrides(self) -> dict[str, str]:
        """Return the stored overrides (empty before the first change)."""
        doc = await self._docs.get(OVERRIDES_KEY)
        return {str(k): str(v) for k, v in (doc or {}).items()}

    async def save_overrides(self, overrides: Mapping[str, str], now: datetime) -> None:
        """Replace the stored overrides."""
        await self._docs.put(OVERRIDES_KEY, dict(overrides), now)


class DocumentVenueAccount:
    """``VenueAccountRepository`` as one document."""

    def __init__(self, docs: Documents) -> None:
        self._docs = docs

    async def get(self) -> VenueAccount | None:
        """Return the account this database holds, or None."""
        doc = await self._docs.get(ACCOUNT_KEY)
        if not isinstance(doc, dict):
            return None
        return VenueAccount(str(doc.get("exchange", "?")), str(doc.get("kind", "?")))

    async def save(self, account: VenueAccount, now: datetime) -> None:
        """Record the account."""
        await self._docs.put(ACCOUNT_KEY, {"exchange": account.exchange, "kind": account.kind}, now)


class DocumentBreakers:
    """``BreakerRepository``: one document per venue, times as ISO strings."""

    def __init__(self, docs: Documents) -> None:
        self._docs = docs

    async def get(self, venue: str) -> BreakerMemory | None:
        """Return the stored breaker of ``venue``, or None."""
        doc = await self._docs.get(BREAKER_KEY + venue)
        if not isinstance(doc, dict):
            return None
        b = _object(doc.get("breaker"))
        breaker = Breaker(
            state=BreakerState(str(b["state"])), since=_when(b.get("since")),
            down_since=_when(b.get("down_since")), streak=int(b.get("streak", 0)),
            calls=tuple((datetime.fromisoformat(str(at)), bool(failed)) for at, failed in b.get("calls", [])),
            failures_while_down=int(b.get("failures_while_down", 0)), probes_ok=int(b.get("probes_ok", 0)),
            reason=str(b.get("reason", "")), last_error=str(b.get("last_error", "")))
        return BreakerMemory(breaker, int(doc.get("outages", 0)), int(doc.get("retries", 0)))

    async def save(self, venue: str, memory: BreakerMemory, now: datetime) -> None:
        """Create or replace the breaker of ``venue``."""
        b = memory.breaker
        breaker: dict[str, JsonValue] = {
            "state": b.state.value, "since": _iso(b.since), "down_since": _iso(b.down_since),
            "streak": b.streak, "calls": [[at.isoformat(), failed] for at, failed in b.calls],
            "failures_while_down": b.failures_while_down, "probes_ok": b.probes_ok, "reason": b.reason,
            "last_error": b.last_error}
        await self._docs.put(BREAKER_KEY + venue, {"breaker": breaker, "outages": memory.outages,
                                                   "retries": memory.retries}, now)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _when(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


class DocumentReplayCursor:
    """``ReplayCursorRepository`` as one document."""

    def __init__(self, docs: Documents) -> None:
        self._docs = docs

    async def get(self) -> ReplayCursor | None:
        """Return the stored cursor, or None."""
        doc = await self._docs.get(CURSOR_KEY)
        if not isinstance(doc, dict):
            return None
        return ReplayCursor(str(doc["timeframe"]), int(doc["next_ms"]))

    async def save(self, cursor: ReplayCursor, now: datetime) -> None:
        """Create or replace the cursor."""
        await self._docs.put(CURSOR_KEY, {"timeframe": cursor.timeframe, "next_ms": cursor.next_ms}, now)


def _item(account: str, kind: str, number: int) -> str:
    return f"{account}/{kind}/{number:010d}"  # zero-padded: key order is numbering order


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DataError(f"paper state document is {type(value).__name__}, not an object")
    return value


# ── engine codec ──────────────────────────────────────────────────────────────────────────────
_ENUMS: dict[str, type[Enum]] = {"purpose": OrderPurpose, "order_type": OrderType, "type": OrderType,
                                 "side": Side}
_DECIMALS = {"take_profit", "amount", "price", "trigger_price", "attached_stop", "attached_take_profit"}
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
