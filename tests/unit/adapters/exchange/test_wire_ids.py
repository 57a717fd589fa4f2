"""Kraken takes client ids as UUIDs: ours go there and back without a table, others pass unchanged."""

from __future__ import annotations

import re

import pytest

from trader.adapters.exchange.wire_ids import from_uuid, to_uuid
from trader.core.domain.enums import OrderPurpose
from trader.core.domain.ids import PositionId, attached_client_id, client_order_id

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.mark.parametrize("purpose", list(OrderPurpose))
@pytest.mark.parametrize("attempt", [0, 1, 9, 10, 12, 99])
def test_our_ids_round_trip_through_a_uuid(purpose: OrderPurpose, attempt: int) -> None:
    for position in ("p1", "BTC/USDT-2024-01-01T00:00", "x" * 40):
        ours = client_order_id(PositionId(position), purpose, attempt)
        wire = to_uuid(ours)
        assert UUID.match(wire) and from_uuid(wire) == ours


def test_distinct_ids_give_distinct_uuids() -> None:
    ids = {client_order_id(PositionId(f"p{i}"), purpose, attempt)
           for i in range(200) for purpose in OrderPurpose for attempt in (0, 1)}
    assert len({to_uuid(i) for i in ids}) == len(ids)


def test_foreign_ids_pass_unchanged() -> None:
    assert to_uuid("manual-order-7") == "manual-order-7"
    assert from_uuid("manual-order-7") == "manual-order-7"
    assert from_uuid("f0000000-0000-0000-0000-000000000000") == "f0000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize("attempt", [0, 3])
def test_an_attached_protection_id_round_trips_apart_from_its_entry(attempt: int) -> None:
    entry = client_order_id(PositionId("p1"), OrderPurpose.ENTRY, attempt)
    attached = attached_client_id(entry)
    assert UUID.match(to_uuid(attached)) and from_uuid(to_uuid(attached)) == attached
    assert to_uuid(attached) != to_uuid(entry)
