"""Give numba a writable cache directory before it is imported (entrypoints call ``ensure_numba_cache``).

The backtest kernels are compiled with ``cache=True``. Numba looks for a cache directory when a
function is decorated, that is on import: next to the sources (``__pycache__``), then in the user's
cache directory (``$XDG_CACHE_HOME`` or ``~/.cache``); when neither is writable (the image: a
read-only install and a read-only HOME for the non-root user) the import fails with "cannot cache
function ...: no locator available". Then, and only then, we point ``NUMBA_CACHE_DIR`` at a private
directory under the system temp dir; an explicit ``NUMBA_CACHE_DIR`` always wins.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

CACHE_ENV = "NUMBA_CACHE_DIR"
# The package whose sources hold the cached kernels: numba's first choice is its __pycache__.
_KERNELS = Path(__file__).resolve().parents[1] / "core" / "backtest"


def ensure_numba_cache(environ: MutableMapping[str, str] | None = None,
                       kernels: Path = _KERNELS) -> str | None:
    """Set ``NUMBA_CACHE_DIR`` when numba would find no writable cache location; return what was set."""
    env = os.environ if environ is None else environ
    if env.get(CACHE_ENV):
        return None
    home = env.get("HOME") or str(Path.home())
    user_cache = Path(env.get("XDG_CACHE_HOME") or Path(home) / ".cache") / "numba"
    if _writable(kernels / "__pycache__") or _writable(user_cache):
        return None
    target = _private_dir(Path(tempfile.gettempdir()) / f"tradebot-numba-{os.getuid()}")
    env[CACHE_ENV] = str(target)
    numba_config = sys.modules.get("numba.core.config")
    if numba_config is not None:  # numba read the environment already: tell its config as well
        numba_config.CACHE_DIR = str(target)  # type: ignore[attr-defined]
    logger.debug("numba cannot cache next to the sources or in %s; caching in %s", user_cache, target)
    return str(target)


def _private_dir(wanted: Path) -> Path:
    """Return ``wanted`` made 0700 and ours, or a fresh temp dir when someone else got there first
    (numba unpickles what it finds in its cache: a directory others can write is not a cache)."""
    try:
        wanted.mkdir(mode=0o700, exist_ok=True)
        info = wanted.lstat()
        if wanted.is_dir() and not wanted.is_symlink() and info.st_uid == os.getuid() \
                and not info.st_mode & 0o077:
            return wanted
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="tradebot-numba-"))


def _writable(directory: Path) -> bool:
    """Return True when ``directory`` exists and is writable, or could be created (its nearest existing
    ancestor is writable)."""
    for candidate in (directory, *directory.parents):
        if candidate.exists():
            return candidate.is_dir() and os.access(candidate, os.W_OK | os.X_OK)
    return False


def load_cached(dispatcher: Any) -> int:
    """Load the overloads numba's disk cache holds for ``dispatcher`` on this machine; compile none.

    Returns how many loaded: 0 when the cache is empty or stale (the call then compiles, as without
    this), or when numba's cache internals (``_cache``, ``_index_key``: numba 0.68) are not as expected.
    """
    try:
        cache = dispatcher._cache
        codegen = dispatcher.targetctx.codegen()
        keys = list(cache._cache_file._load_index())
    except (AttributeError, OSError, EOFError, ValueError) as exc:
        logger.debug("no numba cache index for %s: %s", dispatcher, exc)
        return 0
    loaded = 0
    for key in keys:
        # only what this machine and this source built: any other key would be a fresh compilation
        if isinstance(key, tuple) and key and cache._index_key(key[0], codegen) == key:
            dispatcher.compile(key[0])
            loaded += 1
    return loaded


def preload(dispatchers: Iterable[Any]) -> threading.Thread:
    """Start loading ``dispatchers`` from numba's disk cache in a thread and return it (join before use).

    numba's first cached call initialises its registries and LLVM (0.5-0.7 s on a 1-minute year's
    `tradebot backtest`); much of it runs while the caller reads its candles (pandas parses without
    the GIL). A failure here only costs the time: the call then loads or compiles as it would have.
    """
    def load() -> None:
        for dispatcher in dispatchers:
            try:
                load_cached(dispatcher)
            except Exception:  # an optimisation: the real call reports real errors
                logger.debug("preloading %s failed", dispatcher, exc_info=True)

    thread = threading.Thread(target=load, name="numba-preload", daemon=True)
    thread.start()
    return thread


@contextmanager
def preloaded(dispatchers: Iterable[Any]) -> Iterator[None]:
    """Preload ``dispatchers`` (``preload``) during the block; joined on leaving it, on errors too (numba
    must not be loading code while the interpreter shuts down)."""
    thread = preload(dispatchers)
    try:
        yield
    finally:
        thread.join()
