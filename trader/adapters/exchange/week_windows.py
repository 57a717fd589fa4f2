"""History from a venue that answers at most 7 days per request, newest first, paged by cursor (Bybit's
``/v5/execution/list``, which ccxt reads for both ``fetch_my_trades`` and ``fetch_funding_history``).

The walk asks window after window ``[start, start + 7 days]`` up to the venue's time, and within a
window follows ``nextPageCursor`` (ccxt keeps it in the ``info`` of the page's first row) until a page
comes back short or without a cursor. Rows are keyed by their id, so an overlap is kept once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

WEEK_MS = 7 * 24 * 3_600_000  # Bybit refuses endTime - startTime above 7 days
Page = Callable[[int, int, dict[str, Any]], Awaitable[list[dict[str, Any]]]]


def next_cursor(page: list[dict[str, Any]]) -> str | None:
    """Return the cursor of the page after ``page`` (ccxt keeps it in one row's info), or None."""
    for row in page:
        cursor = (row.get("info") or {}).get("nextPageCursor")
        if cursor:
            return str(cursor)
    return None


async def walk(fetch: Page, since_ms: int, horizon_ms: int, page_size: int) -> list[dict[str, Any]]:
    """Return every row from ``since_ms`` to ``horizon_ms`` (the venue's time), oldest first.

    ``fetch(start, end, params)`` returns one page of ccxt rows of ``[start, end]``; ``params`` carries
    the page size and, after the first page of a window, the cursor.
    """
    rows: dict[str, dict[str, Any]] = {}
    start = since_ms
    while True:
        end = min(start + WEEK_MS, max(horizon_ms, start))
        params: dict[str, Any] = {"limit": page_size}
        while True:
            page = await fetch(start, end, dict(params))
            rows.update({str(r.get("id") or r["timestamp"]): r for r in page})
            cursor = next_cursor(page)
            if cursor is None or len(page) < page_size:
                break
            params["cursor"] = cursor
        if end >= horizon_ms:
            return sorted(rows.values(), key=lambda r: (int(r["timestamp"]), str(r.get("id"))))
        start = end + 1
