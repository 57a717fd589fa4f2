"""Identifier types and the deterministic client order id."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import NewType

from trader.core.domain.enums import OrderPurpose

Symbol = NewType("Symbol", str)  # unified "BASE/QUOTE"
ClientOrderId = NewType("ClientOrderId", str)
PositionId = NewType("PositionId", str)

_MAX_CLIENT_ID = 32  # Binance allows 36, OKX 32 alphanumerics: the tighter bound wins


@lru_cache(maxsize=4096)  # asked for the working order's id on most events
def client_order_id(position_id: PositionId, purpose: OrderPurpose, attempt: int = 0) -> ClientOrderId:
    """Return the id for (position, purpose, attempt); a retried request reuses it, so never duplicates.

    Alphanumeric only and at most 32 characters, which every supported venue accepts.
    """
    digest = hashlib.sha256(f"{position_id}|{purpose.value}|{attempt}".encode()).hexdigest()
    return ClientOrderId(("tb" + purpose.value + str(attempt) + digest)[:_MAX_CLIENT_ID])


_ATTACHED = "ta"  # our ids start "tb"; the attached protection's id is its entry's with this head


def attached_client_id(entry_id: ClientOrderId) -> ClientOrderId:
    """Return the id of the protection a venue attaches to the entry ``entry_id`` (Bybit's TP/SL on the
    order, Kraken's conditional close): the venue makes that order itself, so the id is ours alone, and
    the entry's id can be read back from it (``attached_entry``) after a restart, without a table."""
    return ClientOrderId(_ATTACHED + entry_id[2:])


def attached_entry(client_order_id: str) -> ClientOrderId | None:
    """Return the entry id of an id made by ``attached_client_id``, else None."""
    if not client_order_id.startswith(_ATTACHED):
        return None
    return ClientOrderId("tb" + client_order_id[len(_ATTACHED):])


def split_symbol(symbol: str) -> tuple[str, str]:
    """Return (base, quote) of a unified symbol, raising ValueError when it is not BASE/QUOTE."""
    base, sep, quote = symbol.partition("/")
    if not sep or not base or not quote or "/" in quote:
        raise ValueError(f"not a pair: {symbol!r} (expected BASE/QUOTE, e.g. BTC/USDT)")
    return base, quote.split(":")[0]
