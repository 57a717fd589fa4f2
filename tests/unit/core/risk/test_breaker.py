"""The venue circuit breaker's state machine: examples for each rule, properties over random call streams."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from trader.config.sections import BreakerConfig
from trader.core.risk.breaker import Breaker, BreakerState, advance, came_back, record, went_down

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CFG = BreakerConfig(failures=3, window_seconds=60, min_calls=6, failure_rate=Decimal("0.5"), open_seconds=30,
                    probes_to_close=2)


def _run(outcomes: list[tuple[float, bool]], cfg: BreakerConfig = CFG) -> list[Breaker]:
    """Feed (seconds after T0, failed) outcomes; return the breaker after each."""
    breaker, seen = Breaker(), []
    for at, failed in outcomes:
        breaker = record(breaker, T0 + timedelta(seconds=at), cfg, "RequestTimeout" if failed else None)
        seen.append(breaker)
    return seen


def test_opens_after_n_failures_in_a_row_and_not_before() -> None:
    states = [b.state for b in _run([(0, True), (1, True), (2, True)])]
    assert states == [BreakerState.CLOSED, BreakerState.CLOSED, BreakerState.OPEN]
    assert _run([(0, True), (1, True), (2, False), (3, True)])[-1].state is BreakerState.CLOSED


def test_opens_on_the_failure_rate_over_the_window() -> None:
    # fail, answer, fail, answer, fail: never 3 in a row, but 3 of 6 in the window fail
    calls = [(float(i), i % 2 == 0) for i in range(6)]
    calls[-1] = (5.0, True)
    last = _run(calls)[-1]
    assert last.state is BreakerState.OPEN and "of 6 venue calls" in last.reason


def test_old_calls_leave_the_window() -> None:
    calls = [(0.0, True), (1.0, False), (2.0, True), (3.0, False)]  # long ago
    calls += [(100.0 + i, False) for i in range(4)] + [(105.0, True)]
    assert _run(calls)[-1].state is BreakerState.CLOSED  # 1 of 5 in the window


def test_half_opens_after_open_seconds_and_closes_after_the_probes() -> None:
    opened = _run([(0, True), (1, True), (2, True)])[-1]
    assert record(opened, T0 + timedelta(seconds=10), CFG).state is BreakerState.OPEN  # too early
    half = advance(opened, T0 + timedelta(seconds=32), CFG)
    assert half.state is BreakerState.HALF_OPEN and half.down_since == opened.down_since
    one = record(half, T0 + timedelta(seconds=33), CFG)
    assert one.state is BreakerState.HALF_OPEN and not one.allows_entries
    two = record(one, T0 + timedelta(seconds=34), CFG)
    assert two.state is BreakerState.CLOSED and two.allows_entries and came_back(one, two)


def test_a_failed_probe_reopens_the_same_outage() -> None:
    opened = _run([(0, True), (1, True), (2, True)])[-1]
    half = advance(opened, T0 + timedelta(seconds=31), CFG)
    again = record(half, T0 + timedelta(seconds=32), CFG, "NetworkError")
    assert again.state is BreakerState.OPEN and again.down_since == opened.down_since
    assert again.failures_while_down == opened.failures_while_down + 1 and not went_down(half, again)


def test_config_is_validated() -> None:
    with pytest.raises(ValidationError, match="retry_max_seconds"):
        BreakerConfig(retry_seconds=10, retry_max_seconds=5)
    with pytest.raises(ValidationError):
        BreakerConfig(failures=0)
    with pytest.raises(ValidationError):
        BreakerConfig(failure_rate=Decimal("1.5"))


# ── properties ─────────────────────────────────────────────────────────────────────────────────
configs = st.builds(BreakerConfig, failures=st.integers(1, 6), window_seconds=st.floats(1, 100),
                    min_calls=st.integers(1, 10), failure_rate=st.decimals("0.1", "1", places=2),
                    open_seconds=st.floats(0.5, 50), probes_to_close=st.integers(1, 4))
streams = st.lists(st.tuples(st.floats(0, 20), st.booleans(), st.booleans()), max_size=80)


Step = tuple[Breaker, Breaker, bool]


def _replay(cfg: BreakerConfig, stream: list[tuple[float, bool, bool]]) -> list[Step]:
    """Apply (gap seconds, failed, tick-only) steps; return (before, after, failed) per step."""
    breaker, at, out = Breaker(), T0, []
    for gap, failed, tick_only in stream:
        at += timedelta(seconds=gap)
        after = advance(breaker, at, cfg) if tick_only else record(breaker, at, cfg, "E" if failed else None)
        out.append((breaker, after, failed and not tick_only))
        breaker = after
    return out


@settings(max_examples=300, deadline=None)
@given(configs, streams)
def test_down_and_back_alternate_so_each_outage_is_one_alert_each_way(
        cfg: BreakerConfig, stream: list[tuple[float, bool, bool]]) -> None:
    moments = []
    for before, after, failed in _replay(cfg, stream):
        if went_down(before, after):
            assert failed, "only a failed call opens the breaker"
            moments.append("down")
        if came_back(before, after):
            assert not failed, "only an answered call closes the breaker"
            moments.append("back")
    assert moments == ["down", "back"] * (len(moments) // 2) + (["down"] if len(moments) % 2 else [])


@settings(max_examples=300, deadline=None)
@given(configs, streams)
def test_entries_are_allowed_exactly_when_closed_and_down_since_marks_the_outage(
        cfg: BreakerConfig, stream: list[tuple[float, bool, bool]]) -> None:
    for before, after, _ in _replay(cfg, stream):
        assert after.allows_entries == (after.state is BreakerState.CLOSED)
        assert (after.down_since is None) == after.allows_entries
        if not before.allows_entries and not after.allows_entries:
            assert after.down_since == before.down_since  # one outage, however often it re-opened
        assert after.failures_while_down >= (before.failures_while_down if not after.allows_entries else 0)
        assert all(c[0] > T0 - timedelta(days=1) for c in after.calls)
        assert len(after.calls) <= len(stream)


@settings(max_examples=200, deadline=None)
@given(configs, streams)
def test_an_answering_venue_always_closes_the_breaker_by_itself(
        cfg: BreakerConfig, stream: list[tuple[float, bool, bool]]) -> None:
    steps = _replay(cfg, stream)
    breaker = steps[-1][1] if steps else Breaker()
    at = T0 + timedelta(seconds=sum(g for g, _, _ in stream) + cfg.open_seconds + 1)
    for i in range(cfg.probes_to_close):
        breaker = record(breaker, at + timedelta(seconds=i), cfg)
    assert breaker.state is BreakerState.CLOSED and breaker.allows_entries


@settings(max_examples=200, deadline=None)
@given(configs, st.integers(0, 50))
def test_successes_alone_never_open_it(cfg: BreakerConfig, n: int) -> None:
    last = _run([(float(i), False) for i in range(n)], cfg)
    assert all(b.state is BreakerState.CLOSED for b in last)
