"""Pause Python's cyclic garbage collector while a command loads its modules.

Loading allocates hundreds of thousands of objects that all live on (classes, functions, numba's
typing registries, pydantic's schemas); the collector still scans them every 700 allocations, and its
full passes grow with the heap: 0.3 s of the 2 s a `tradebot backtest` process spends (measured in CPU
time, bench/backtest_process.py). Imports make no garbage cycles worth collecting early.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def modules_loading() -> Iterator[None]:
    """Run the block with the cyclic GC paused; on leaving (errors too) freeze what it loaded, so later
    collections skip it, and resume the GC. Nests: only the outermost block resumes it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()
