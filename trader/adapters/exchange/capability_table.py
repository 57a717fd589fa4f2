"""The per-venue capability table (docs/exchanges.md), generated from ccxt's ``has`` metadata.

No network: ccxt classes are instantiated only to read their declared flags.
"""

from __future__ import annotations

import asyncio
import functools

from trader.adapters.exchange.capabilities import capability_row
from trader.adapters.exchange.client import has_sandbox, venue_class

SUPPORTED_VENUES: tuple[str, ...] = ("binance", "okx", "kraken", "bybit", "nobitex", "wallex")


async def _has(venue: str) -> dict[str, object]:
    client = venue_class(venue)({})
    try:
        return {**client.has, "sandbox": has_sandbox(venue)}
    finally:
        await client.close()


@functools.cache
def declared_has(venue: str) -> dict[str, object]:
    """Return the venue's ccxt ``has`` flags (cached: building a ccxt client is slow)."""
    return asyncio.run(_has(venue))


def capability_rows(venues: tuple[str, ...] = SUPPORTED_VENUES) -> list[dict[str, str]]:
    """Return one capability row per venue."""
    return [capability_row(v, declared_has(v)) for v in venues]


def markdown_table(rows: list[dict[str, str]]) -> str:
    """Return the rows as a Markdown table."""
    headers = list(rows[0])
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    lines += ["| " + " | ".join(row[h] for h in headers) + " |" for row in rows]
    return "\n".join(lines)
