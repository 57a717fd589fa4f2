"""EquityHistory: the cached snapshots always equal the store's, however snapshots arrive (real store)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.contract.store.builders import T0
from trader.adapters.store.memory.uow import MemoryStore
from trader.ports.store import EquitySnapshot
from trader.services.equity_history import EPOCH, EquityHistory

H = timedelta(hours=1)


async def _add(store: MemoryStore, hour: int, equity: int) -> None:
    async with store.uow_factory() as uow:
        await uow.equity.add(EquitySnapshot(T0 + hour * H, "USDT", Decimal(equity), Decimal(equity)))
        await uow.commit()


async def _stored(store: MemoryStore, hour: int | None) -> tuple[EquitySnapshot, ...]:
    async with store.uow_factory() as uow:
        return tuple(await uow.equity.since(EPOCH if hour is None else T0 + hour * H))


async def test_new_snapshots_are_appended_and_a_window_is_cut_from_the_held_history() -> None:
    store = MemoryStore()
    history = EquityHistory(store.uow_factory)
    assert await history.since() == ()
    for hour in range(3):
        await _add(store, hour, 100 + hour)
    assert [s.equity for s in await history.since()] == [100, 101, 102]
    await _add(store, 2, 99)  # a second snapshot at the newest time
    await _add(store, 5, 105)
    assert [s.equity for s in await history.since(T0 + 2 * H)] == [102, 99, 105]
    assert [s.equity for s in await history.since(T0 + 6 * H)] == []


async def test_a_snapshot_stored_with_an_older_time_is_seen() -> None:
    store = MemoryStore()
    history = EquityHistory(store.uow_factory)
    await _add(store, 10, 110)
    assert len(await history.since()) == 1
    await _add(store, 1, 101)  # the newest stays the same; the count does not
    assert [s.equity for s in await history.since()] == [101, 110]


# each step: store a snapshot at an hour, or ask for the history since an hour (None: all of it)
STEPS = st.lists(st.one_of(st.tuples(st.just("add"), st.integers(0, 12), st.integers(1, 500)),
                           st.tuples(st.just("ask"), st.none() | st.integers(-1, 13), st.just(0))),
                 max_size=30)


@given(STEPS)
@settings(max_examples=150, deadline=None)
async def test_every_answer_equals_the_stores_own(steps: list[tuple[str, int | None, int]]) -> None:
    store = MemoryStore()
    history = EquityHistory(store.uow_factory)
    for kind, hour, equity in steps:
        if kind == "add":
            assert hour is not None
            await _add(store, hour, equity)
        else:
            assert await history.since(None if hour is None else T0 + hour * H) == await _stored(store, hour)
