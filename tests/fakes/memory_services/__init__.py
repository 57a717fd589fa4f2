"""Test double of OUR service layer (trader.services.api) over an in-memory state.

The live engine's services are built elsewhere; the Telegram tests need services that behave like
them: validate, refuse with reasons, change state only on valid actions, and count every change
(``MemoryState.changes``) so tests can prove an invalid command changed nothing. Money is Decimal and
amounts round down with the domain's ``MarketSpec``; charts are real PNGs (matplotlib Figure API, synthetic
series) until trader/adapters/charts renders the real ones.
"""

from tests.fakes.memory_services.control import MemoryControl
from tests.fakes.memory_services.media import (
    MemoryAudit,
    MemoryBacktests,
    MemoryCharts,
    MemorySystem,
    memory_services,
    render_png,
)
from tests.fakes.memory_services.reads import MemoryQueries, MemoryReports
from tests.fakes.memory_services.state import MARKETS, NOW, STRATEGIES, MemoryState, Setting

__all__ = [
    "MARKETS",
    "NOW",
    "STRATEGIES",
    "MemoryAudit",
    "MemoryBacktests",
    "MemoryCharts",
    "MemoryControl",
    "MemoryQueries",
    "MemoryReports",
    "MemoryState",
    "MemorySystem",
    "Setting",
    "memory_services",
    "render_png",
]
