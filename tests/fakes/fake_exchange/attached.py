"""Protection a fake venue attaches to an entry order: Kraken's conditional close, Bybit's TP/SL on the order.

The entry is accepted with its bracket (``attach``); when it has filled completely the venue places the
protective order itself (``after_fill`` hook of FakeVenue): a Kraken ``stop-loss`` selling what was
bought, or a Bybit bidirectional TP/SL (an order list here: a TAKE_PROFIT above and a STOP_LOSS below
sharing one lock; when one triggers the venue expires the other). The child carries no client id of ours,
only its parent (``parent_of``): Kraken shows it as ``refid`` (the entry's txid), Bybit as
``parentOrderLinkId``. An entry cancelled before it filled attaches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from aiohttp import web

from tests.fakes.fake_exchange.venue import OPEN_STATUSES, FakeOrder, FakeVenue, VenueReject


@dataclass(frozen=True)
class Bracket:
    """What an entry carries: the stop trigger and, for Bybit, the take-profit trigger."""

    stop: Decimal
    take_profit: Decimal | None = None


@dataclass
class AttachedOrders:
    """The brackets riding on entries of one venue, and the children they became."""

    venue: FakeVenue
    pending: dict[int, Bracket] = field(default_factory=dict)  # entry order id -> its bracket
    parent_of: dict[int, int] = field(default_factory=dict)  # child order id -> entry order id
    lists: dict[int, int] = field(default_factory=dict)  # Bybit: list id -> entry order id
    refused: list[str] = field(default_factory=list)  # why a child could not be placed

    def __post_init__(self) -> None:
        self.venue.after_fill.append(self._filled)

    def attach(self, entry: FakeOrder, bracket: Bracket) -> None:
        """Remember ``bracket`` for ``entry`` (placed just now); a filled market entry attaches at once."""
        with self.venue.lock:
            self.pending[entry.order_id] = bracket
            if entry.status == "FILLED":
                self._filled(entry)

    def children(self, entry_id: int) -> list[FakeOrder]:
        """Return the orders the venue made from ``entry_id``."""
        with self.venue.lock:
            return [self.venue.orders[c] for c, p in self.parent_of.items() if p == entry_id]

    def parent(self, order: FakeOrder) -> FakeOrder | None:
        """Return the entry a child was made from, or None for an order of ours."""
        entry_id = self.parent_of.get(order.order_id)
        return None if entry_id is None else self.venue.orders[entry_id]

    def _filled(self, order: FakeOrder) -> None:
        bracket = self.pending.get(order.order_id)
        if bracket is None or order.status != "FILLED":
            return
        del self.pending[order.order_id]
        market = self.venue.markets[order.symbol_id]
        held = order.executed  # a buy's base fee (Bybit) is charged on top: sell what the account holds
        if not self.venue.fee_in_quote and order.side == "BUY":
            held -= order.executed * self.venue.fee_rate
        qty = (held / market.step_size).to_integral_value(rounding="ROUND_FLOOR") * market.step_size
        side = "SELL" if order.side == "BUY" else "BUY"
        base = {"symbol": order.symbol_id, "side": side, "quantity": f"{qty:f}"}
        try:
            if bracket.take_profit is None:
                child = self.venue.place({**base, "type": "STOP_LOSS", "stopPrice": f"{bracket.stop:f}",
                                          "newClientOrderId": f"close{order.order_id}"})
                legs = [child]
            else:
                listed = self.venue.place_oco({
                    **base, "listClientOrderId": f"tpsl{order.order_id}",
                    "aboveType": "TAKE_PROFIT", "aboveStopPrice": f"{bracket.take_profit:f}",
                    "aboveClientOrderId": f"tp{order.order_id}", "belowType": "STOP_LOSS",
                    "belowStopPrice": f"{bracket.stop:f}", "belowClientOrderId": f"sl{order.order_id}"})
                self.lists[listed.list_id] = order.order_id
                legs = self.venue.list_legs(listed)
        except VenueReject as exc:  # e.g. the price already crossed the stop: the venue refuses it
            self.refused.append(exc.msg)
            return
        for leg in legs:
            leg.client_id = ""  # the venue names the child; ours is on the entry
            self.parent_of[leg.order_id] = order.order_id

    def resting(self, symbol_id: str) -> list[FakeOrder]:
        """Return the children still open on a market."""
        with self.venue.lock:
            return [self.venue.orders[c] for c in self.parent_of
                    if self.venue.orders[c].status in OPEN_STATUSES
                    and self.venue.orders[c].symbol_id == symbol_id]


ATTACHED = web.AppKey("attached", AttachedOrders)  # set by the dialects that attach brackets
