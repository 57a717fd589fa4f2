"""Protection the venue attaches to an entry order, found and shown under our attached client id.

Kraken's conditional close (``close[ordertype]``/``close[price]`` on AddOrder) and Bybit's TP/SL on the
order ride on the entry: when it fills the venue creates the protective order itself, without our client
id. The engine names that order ``attached_client_id(entry id)`` (trader.core.domain.ids), from which
the entry's id reads back, so it is found again after a restart without a table: the child is the order
whose parent reference (Kraken ``refid``: the entry's txid; Bybit ``parentOrderLinkId``: the entry's
link id) points at our entry. Open orders and fills of a child carry the attached id like any of ours.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from decimal import Decimal
from functools import partial
from typing import Any

from trader.adapters.exchange.capabilities import VenueFacts
from trader.adapters.exchange.wire_ids import from_uuid, to_uuid
from trader.core.domain.ids import ClientOrderId, Symbol, attached_client_id, attached_entry
from trader.core.domain.orders import Order, OrderRequest
from trader.core.errors import OrderNotFound

Retried = Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]
Parse = Callable[[dict[str, Any], ClientOrderId | None], Order]
_PARENT = {"close": "refid", "tpsl": "parentOrderLinkId"}  # the child's field naming its entry
CHILD_WAITS = (0.5, 1.0)  # seconds between further looks for a child not there yet


def entry_params(facts: VenueFacts, request: OrderRequest) -> dict[str, Any]:
    """Return the ccxt params that make an entry carry its protection (none without ``attached_stop``)."""
    stop, target = request.attached_stop, request.attached_take_profit
    if stop is None or not facts.attached:
        return {}
    if facts.attached == "close":  # ccxt kraken sends close[ordertype], close[price]
        return {"close": {"ordertype": "stop-loss", "price": _s(stop)}}
    params = {"stopLoss": _s(stop)}  # ccxt bybit: stopLoss/takeProfit, market legs (slOrderType Market)
    if target is not None:
        params["takeProfit"] = _s(target)
    return params


def _s(value: Decimal) -> str:
    return f"{value:f}"


class AttachedOrders:
    """Find the order a venue made from one of our entries, and name children found in lists."""

    def __init__(self, client: Any, facts: VenueFacts, retried: Retried, parse: Parse) -> None:
        self._client = client
        self._facts = facts
        self._retried = retried
        self._parse = parse
        self._parent_key = _PARENT[facts.attached]
        self._book = dict(facts.trigger_lookup)  # Bybit keeps TP/SL orders in the tpslOrder book
        self._entry_by_venue_id: dict[str, ClientOrderId] = {}

    async def find(self, symbol: Symbol, client_order_id: ClientOrderId
                   ) -> tuple[Order, dict[str, Any]] | None:
        """Return the child of the entry ``client_order_id`` names, as our order, or None."""
        entry = attached_entry(client_order_id)
        if entry is None:
            return None
        if self._parent_key == "refid":  # Kraken points at the entry's txid: read the entry first
            parent = await self._entry(symbol, entry)
            if parent is None:
                return None
            wanted = str(parent["id"])
        else:
            wanted = self._wire(entry)
        for fetch in (self._client.fetch_open_orders, self._finished):
            found: list[dict[str, Any]] = await self._retried(
                "fetch_orders", partial(fetch, symbol, None, None, dict(self._book)))
            for raw in reversed(found):
                if str((raw.get("info") or {}).get(self._parent_key) or "") == wanted:
                    return self._named(raw, client_order_id), raw
        return None

    async def wait_for(self, lookup: Callable[[], Awaitable[Order | None]],
                       sleep: Callable[[float], Awaitable[None]]) -> Order | None:
        """Look for the child a few more times before we place the protection ourselves: the venue
        makes it just after the entry fills, and placing ours meanwhile would rest two stops."""
        for delay in CHILD_WAITS:
            await sleep(delay)
            found = await lookup()
            if found is not None:
                return found
        return None

    async def owner(self, symbol: Symbol | None, raw: dict[str, Any]) -> ClientOrderId | None:
        """Return the attached id of a child order read from a list or by venue id, else None."""
        parent = str((raw.get("info") or {}).get(self._parent_key) or "")
        if not parent:
            return None
        if self._parent_key != "refid":
            return attached_client_id(from_uuid(parent))
        entry = self._entry_by_venue_id.get(parent)
        if entry is None:
            try:
                fetch = partial(self._client.fetch_order, parent, symbol)
                entry_raw = await self._retried("fetch_order", fetch)
            except OrderNotFound:
                return None
            entry = self._parse(entry_raw, None).client_order_id
            if not entry:
                return None
            self._entry_by_venue_id[parent] = entry
        return attached_client_id(entry)

    @property
    def _finished(self) -> Callable[..., Awaitable[Any]]:
        # Bybit's closed orders are the filled ones only; a cancelled child is among the cancelled
        if self._client.has.get("fetchCanceledAndClosedOrders"):
            fetch: Callable[..., Awaitable[Any]] = self._client.fetch_canceled_and_closed_orders
            return fetch
        closed: Callable[..., Awaitable[Any]] = self._client.fetch_closed_orders
        return closed

    def _named(self, raw: dict[str, Any], client_order_id: ClientOrderId) -> Order:
        return dataclasses.replace(self._parse(raw, client_order_id), client_order_id=client_order_id)

    async def _entry(self, symbol: Symbol, entry: ClientOrderId) -> dict[str, Any] | None:
        query = {"clientOrderId": self._wire(entry)}
        for fetch in (self._client.fetch_open_orders, self._client.fetch_closed_orders):
            found: list[dict[str, Any]] = await self._retried(
                "fetch_orders", partial(fetch, symbol, None, None, query))
            if found:
                self._entry_by_venue_id[str(found[-1]["id"])] = entry
                return found[-1]
        return None

    def _wire(self, client_order_id: ClientOrderId) -> str:
        return to_uuid(client_order_id) if self._facts.uuid_client_ids else client_order_id
