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
from collections.abc import MutableMapping
from pathlib import Path

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
