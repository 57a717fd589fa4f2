"""``runtime.numba_cache.load_cached``/``preload``: load what numba's disk cache holds, never compile."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from trader.runtime.numba_cache import load_cached, preload, preloaded

SOURCE = """
import numba

@numba.njit(cache=True)
def twice(x):
    return 2 * x
"""


def _module(path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import ``path`` by name (numba's cache reloads a function through its module)."""
    monkeypatch.syspath_prepend(str(path.parent))
    monkeypatch.delitem(sys.modules, path.stem, raising=False)
    return importlib.import_module(path.stem)


def _source(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(SOURCE)
    return path


def test_loads_the_overloads_another_process_cached_without_compiling(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _source(tmp_path, "cached_twice_a")
    subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r}); "
                    "import cached_twice_a as m; m.twice(3); m.twice(1.5)"], check=True)
    twice = _module(path, monkeypatch).twice
    assert load_cached(twice) == 2
    assert len(twice.signatures) == 2
    assert sum(twice.stats.cache_hits.values()) == 2 and not twice.stats.cache_misses
    assert twice(4) == 8  # the loaded overload runs, still nothing compiled
    assert not twice.stats.cache_misses


def test_an_empty_cache_loads_and_compiles_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    twice = _module(_source(tmp_path, "cached_twice_b"), monkeypatch).twice
    assert load_cached(twice) == 0
    assert not twice.signatures and not twice.stats.cache_misses


def test_preload_survives_what_is_not_a_dispatcher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    twice = _module(_source(tmp_path, "cached_twice_c"), monkeypatch).twice
    thread = preload([object(), twice])
    thread.join(timeout=60)
    assert not thread.is_alive() and not twice.signatures


def test_preloaded_joins_its_thread_also_when_the_block_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _source(tmp_path, "cached_twice_d")
    subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r}); "
                    "import cached_twice_d as m; m.twice(3)"], check=True)
    twice = _module(path, monkeypatch).twice
    with pytest.raises(KeyError), preloaded([twice]):
        raise KeyError("no candles")
    assert len(twice.signatures) == 1  # loaded by the time the block was left
