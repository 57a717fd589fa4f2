"""The week-by-week, page-by-page walk of Bybit's execution list returns every row once, asks no window
longer than 7 days, and stops at the venue's time."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from trader.adapters.exchange.week_windows import WEEK_MS, next_cursor, walk

SINCE = 1_700_000_000_000


class Venue:
    """Rows of ``[start, end]`` newest first, ``limit`` a page, the next page by an offset cursor."""

    def __init__(self, stamps: list[int]) -> None:
        self.rows = [{"id": f"r{i}", "timestamp": t, "info": {}} for i, t in enumerate(stamps)]
        self.asked: list[tuple[int, int]] = []

    async def page(self, start: int, end: int, params: dict[str, Any]) -> list[dict[str, Any]]:
        assert end - start <= WEEK_MS, "Bybit refuses more than 7 days"
        self.asked.append((start, end))
        picked = sorted((r for r in self.rows if start <= r["timestamp"] <= end),
                        key=lambda r: (-r["timestamp"], r["id"]))
        offset, limit = int(params.get("cursor") or 0), params["limit"]
        page = [dict(r, info={}) for r in picked[offset:offset + limit]]
        if page and offset + limit < len(picked):  # ccxt keeps the cursor in the first row's info
            page[0]["info"] = {"nextPageCursor": str(offset + limit)}
        return page


@settings(max_examples=60, deadline=None)
@given(offsets=st.lists(st.integers(0, 40 * 24 * 3_600_000), max_size=60),
       page_size=st.integers(1, 7), span_days=st.integers(0, 45))
def test_every_row_up_to_the_venues_time_comes_back_once(offsets: list[int], page_size: int,
                                                         span_days: int) -> None:
    horizon = SINCE + span_days * 24 * 3_600_000
    venue = Venue([SINCE + o for o in offsets])
    rows = asyncio.run(walk(venue.page, SINCE, horizon, page_size))
    wanted = sorted((r for r in venue.rows if r["timestamp"] <= horizon),
                    key=lambda r: (r["timestamp"], r["id"]))
    assert [r["id"] for r in rows] == [r["id"] for r in wanted]
    windows = sorted(set(venue.asked))
    assert windows[0][0] == SINCE and windows[-1][1] >= horizon  # from the start up to the venue's time
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(windows))  # no gap, no overlap


def test_the_cursor_is_found_in_whichever_row_ccxt_put_it() -> None:
    assert next_cursor([{"info": {}}, {"info": {"nextPageCursor": "abc"}}]) == "abc"
    assert next_cursor([{"info": {"nextPageCursor": ""}}]) is None and next_cursor([]) is None
