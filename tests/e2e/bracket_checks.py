"""The invariants every bracket lifecycle test checks after each step, on any fake dialect.

``check_brackets`` fails when a protective order (an OCO list or a single stop/take-profit) was ever
placed twice, when two protective orders rest at once, when an open position has none resting for what
it holds (naked), or when the store and the venue's ledger disagree on orders or fills. Kraken's
UUID client ids are read back as ours (trader.adapters.exchange.wire_ids), and an order the venue made
from an entry (an attached bracket) as the entry's attached id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from tests.e2e.live_harness import LiveRig
from tests.fakes.fake_exchange import FakeExchange
from tests.fakes.fake_exchange.venue import FakeOrder
from trader.adapters.exchange.wire_ids import from_uuid
from trader.core.domain.enums import OrderStatus, OrderType
from trader.core.domain.ids import attached_client_id
from trader.core.positions.protection import working_id
from trader.core.positions.state import PositionStatus

PAIR = "BTCUSDT"


def our_id(fake: FakeExchange) -> Callable[[FakeOrder], str]:
    """Return the function naming a venue order as ours (an attached child: its entry's attached id)."""
    def name(order: FakeOrder) -> str:
        parent = fake.attached.parent(order) if fake.attached is not None else None
        if parent is not None:
            return attached_client_id(from_uuid(parent.client_id))
        return from_uuid(order.client_id)
    return name


async def check_brackets(rig: LiveRig, *kinds: OrderType) -> None:
    """Assert the invariants above; ``kinds`` are the order types the working protection may have."""
    venue = rig.fake.venue
    name = our_id(rig.fake)
    made = rig.fake.attached.lists if rig.fake.attached is not None else {}  # lists the venue made
    lists = Counter(e.client_id for e in venue.lists_accepted() if e.order_id not in made)
    assert all(n == 1 for n in lists.values()), f"an OCO placed twice: {lists}"
    singles = Counter(name(o) for o in venue.all_orders() if o.order_list_id < 0)
    assert all(n == 1 for n in singles.values()), f"an order placed twice: {singles}"
    stored = {str(o.client_order_id): o for o in await rig.all_orders()}
    assert set(lists) | set(singles) <= set(stored), "venue orders missing in the store"
    async with rig.db.uow() as uow:
        fills = await uow.fills.since(datetime(1970, 1, 1, tzinfo=UTC))
    stored_trades = sorted(f.trade_id.removeprefix("T").split("-")[0] for f in fills)  # Kraken: T501-...
    assert stored_trades == sorted(e.detail["trade_id"] for e in venue.fills()), "fills lost or doubled"
    resting_lists = venue.open_lists(PAIR)
    resting_singles = [o for o in venue.open_orders(PAIR) if o.order_list_id < 0]
    resting = [(lst.client_id if lst.list_id not in made else name(venue.list_legs(lst)[0]),
                venue.list_legs(lst)[0].qty) for lst in resting_lists] + \
        [(name(o), o.qty - o.executed) for o in resting_singles]
    assert len(resting) <= 1, f"two protective orders resting at once: {resting}"
    for position in (await rig.trading.engine_state()).positions.values():
        if position.status is not PositionStatus.OPEN:
            continue
        assert [cid for cid, _ in resting] == [working_id(position)], f"{position.id} is naked: {resting}"
        record = stored[str(working_id(position))]
        assert record.type in kinds and record.status is OrderStatus.OPEN, record
        step = venue.market(PAIR).step_size
        assert 0 <= position.open_amount - resting[0][1] < step, "protection does not cover the holding"
