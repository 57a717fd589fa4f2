"""Our client order ids in the UUID form Kraken requires for ``cl_ord_id``, and back, without state.

Kraken takes a UUID or at most 18 characters of free text; ours are 32 characters
("tb" + purpose + attempt + hex digest, trader.core.domain.ids). The UUID carries the purpose (one hex
digit), the attempt (two) and the first 29 hex digits of the digest, so decoding needs no table: after
a restart a Kraken order's ``cl_ord_id`` still maps to our id. The id of an attached protection ("ta"
+ its entry's id without "tb", trader.core.domain.ids) sets the purpose digit's high bit. Ids of another
shape pass unchanged.
"""

from __future__ import annotations

import re

from trader.core.domain.enums import OrderPurpose
from trader.core.domain.ids import ClientOrderId

_PURPOSES = tuple(p.value for p in OrderPurpose)
_OURS = re.compile(r"^t([ab])(" + "|".join(_PURPOSES) + r")(\d{1,2}?)([0-9a-f]+)$")
_ATTACHED = 8  # added to the purpose digit of an attached protection's id ("ta...")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_MAX = 32
_DIGITS = 29


def to_uuid(client_order_id: str) -> str:
    """Return the UUID form of one of our ids (other ids unchanged)."""
    match = _OURS.match(client_order_id)
    if match is None or int(match.group(3) or 0) > 0xFF:
        return client_order_id
    head, purpose, attempt, digest = match.groups()
    index = _PURPOSES.index(purpose) + (_ATTACHED if head == "a" else 0)
    raw = f"{index:x}{int(attempt):02x}{digest[:_DIGITS].ljust(_DIGITS, '0')}"
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


def from_uuid(wire: str) -> ClientOrderId:
    """Return our id for a UUID made by ``to_uuid`` (anything else unchanged)."""
    if not _UUID.match(wire):
        return ClientOrderId(wire)
    raw = wire.replace("-", "")
    index, attempt = int(raw[0], 16), int(raw[1:3], 16)
    prefix = "ta" if index >= _ATTACHED else "tb"
    index %= _ATTACHED
    if index >= len(_PURPOSES):
        return ClientOrderId(wire)
    head = f"{prefix}{_PURPOSES[index]}{attempt}"
    return ClientOrderId(head + raw[3:3 + _MAX - len(head)])
