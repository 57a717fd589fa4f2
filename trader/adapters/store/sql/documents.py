"""The SQL side's key/value documents: the table ``store.documents`` builds typed repositories on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trader.adapters.store.jsondoc import to_json
from trader.adapters.store.orm import PaperStateRow
from trader.ports.store import JsonValue


class SqlDocuments:
    """JSON documents by key in ``paper_state`` (``store.documents.Documents``)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, key: str) -> JsonValue | None:
        """Return the document or None."""
        row = await self._session.get(PaperStateRow, key)
        return row.data if row is not None else None

    async def put(self, key: str, data: JsonValue, now: datetime) -> None:
        """Create or replace the document."""
        await self._session.merge(PaperStateRow(key=key, data=to_json(data), updated_at=now))
        await self._session.flush()

    async def scan(self, prefix: str) -> list[tuple[str, JsonValue]]:
        """Return (key, document) for every key starting with ``prefix``, sorted by key."""
        row = PaperStateRow
        stmt = select(row.key, row.data).where(row.key.startswith(prefix, autoescape=True)).order_by(row.key)
        return [(key, data) for key, data in (await self._session.execute(stmt)).all()]
