"""JSON codec of the engine's pair groups (``engine.pair_groups.GroupPosition``) for the engine document.

Decimals are kept exact as strings and datetimes as ISO text, like the rest of the engine codec, so an
open group read back after a restart equals the one that was saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from trader.core.domain.enums import Side
from trader.core.domain.ids import ClientOrderId
from trader.core.engine.pair_groups import GroupPosition, LegBook
from trader.core.positions.pair_group import GroupStatus, Leg, PairGroup


def encode_group(group: GroupPosition) -> dict[str, Any]:
    """Return a JSON-ready dict of one pair group."""
    return {
        "id": group.id, "status": group.group.status.value, "strategy": group.strategy, "side": group.side,
        "beta": str(group.beta), "zscore": group.zscore, "reduce_only": group.reduce_only,
        "created_at": group.created_at.isoformat(), "opened_at": _time(group.opened_at),
        "closed_at": _time(group.closed_at), "exit_reason": group.exit_reason,
        "legs": [_encode_leg(leg, book) for leg, book in zip(group.group.legs, group.books, strict=True)],
    }


def decode_group(data: Mapping[str, Any]) -> GroupPosition:
    """Return the group encoded by ``encode_group``."""
    (leg0, book0), (leg1, book1) = (_decode_leg(raw) for raw in data["legs"])
    group = PairGroup(str(data["id"]), (leg0, leg1), GroupStatus(data["status"]))
    return GroupPosition(
        group, str(data["strategy"]), int(data["side"]), Decimal(data["beta"]), float(data["zscore"]),
        (book0, book1), datetime.fromisoformat(data["created_at"]), bool(data["reduce_only"]),
        _parse(data["opened_at"]), _parse(data["closed_at"]), str(data["exit_reason"]),
    )


def _encode_leg(leg: Leg, book: LegBook) -> dict[str, Any]:
    return {
        "symbol": leg.symbol, "side": leg.side.value, "amount": str(leg.amount), "held": str(leg.held),
        "failed": leg.failed, "flat_sent": str(leg.flat_sent), "entry_price": _dec(book.entry_price),
        "exit_filled": str(book.exit_filled), "exit_price": _dec(book.exit_price), "fees": str(book.fees),
        "exits_sent": book.exits_sent, "working": [[cid, str(left)] for cid, left in book.working],
        "retry": str(book.retry), "funding": str(book.funding),
    }


def _decode_leg(data: Mapping[str, Any]) -> tuple[Leg, LegBook]:
    leg = Leg(str(data["symbol"]), Side(data["side"]), Decimal(data["amount"]), Decimal(data["held"]),
              bool(data["failed"]), Decimal(data["flat_sent"]))
    entry, exit_ = data["entry_price"], data["exit_price"]
    book = LegBook(None if entry is None else Decimal(entry), Decimal(data["exit_filled"]),
                   None if exit_ is None else Decimal(exit_), Decimal(data["fees"]), int(data["exits_sent"]),
                   tuple((ClientOrderId(cid), Decimal(left)) for cid, left in data["working"]),
                   Decimal(data["retry"]), Decimal(data.get("funding", "0")))
    return leg, book


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
