"""The in-memory side's key/value documents: what ``store.documents`` builds typed repositories on."""

from __future__ import annotations

from datetime import datetime

from trader.adapters.store.jsondoc import round_trip
from trader.adapters.store.memory.tables import OverlayTable, utc
from trader.ports.store import JsonValue


class MemoryDocuments:
    """JSON documents by key, copied in and out like a database would (``store.documents.Documents``)."""

    def __init__(self, table: OverlayTable[str, JsonValue]) -> None:
        self._t = table

    async def get(self, key: str) -> JsonValue | None:
        """Return a copy of the document or None."""
        data = self._t.get(key)
        return round_trip(data) if data is not None else None

    async def put(self, key: str, data: JsonValue, now: datetime) -> None:
        """Create or replace the document."""
        utc(now)
        self._t.put(key, round_trip(data))

    async def scan(self, prefix: str) -> list[tuple[str, JsonValue]]:
        """Return (key, copy of the document) for every key starting with ``prefix``, sorted by key."""
        return sorted((k, round_trip(v)) for k, v in self._t.items() if k.startswith(prefix))
