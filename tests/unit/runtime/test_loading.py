"""``runtime.loading.modules_loading``: the cyclic GC paused inside, resumed (and the heap frozen) after."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from trader.runtime.loading import modules_loading


@pytest.fixture(autouse=True)
def _gc_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if was else gc.disable)()


def test_paused_inside_resumed_and_frozen_after() -> None:
    gc.enable()
    gc.unfreeze()
    with modules_loading():
        assert not gc.isenabled()
    assert gc.isenabled() and gc.get_freeze_count() > 0


def test_resumed_when_the_block_fails() -> None:
    gc.enable()
    with pytest.raises(ImportError), modules_loading():
        raise ImportError("no such module")
    assert gc.isenabled()


def test_only_the_outermost_block_resumes_and_a_paused_gc_stays_paused() -> None:
    gc.enable()
    with modules_loading():
        with modules_loading():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    with modules_loading():
        pass
    assert not gc.isenabled()
