"""The venue circuit breaker as a pure state machine: call outcomes and time in, a new ``Breaker`` out.

CLOSED -> OPEN on a failure that makes ``BreakerConfig.failures`` in a row, or a failure rate of at
least ``failure_rate`` over the last ``window_seconds`` (once ``min_calls`` calls fell in it).
OPEN -> HALF_OPEN once ``open_seconds`` passed (outcomes meanwhile are counted, successes do not
shorten the wait: a venue that answers one call in three must not flap the breaker).
HALF_OPEN -> CLOSED after ``probes_to_close`` answered calls in a row; any failure -> OPEN again,
keeping ``down_since`` (one outage, however many probes failed). Entries are allowed only when CLOSED.
No I/O and no clock: the runtime passes ``now`` (aware) and acts on ``went_down``/``came_back``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from trader.config.sections import BreakerConfig


class BreakerState(StrEnum):
    """Where the breaker stands; values are stable (shown on /health and the API)."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class Breaker:
    """One venue's breaker.

    ``since``: when the current state began (None: closed since start). ``down_since``: when the
    outage began (kept through half-open), None while closed. ``calls``: (time, failed) in the window
    while closed. ``failures_while_down``: unanswered calls since it opened (counted, not alerted).
    """

    state: BreakerState = BreakerState.CLOSED
    since: datetime | None = None
    down_since: datetime | None = None
    streak: int = 0
    calls: tuple[tuple[datetime, bool], ...] = ()
    failures_while_down: int = 0
    probes_ok: int = 0
    reason: str = ""
    last_error: str = ""

    @property
    def allows_entries(self) -> bool:
        """Return True when new entries may go to the venue (the breaker is closed)."""
        return self.state is BreakerState.CLOSED


def advance(breaker: Breaker, now: datetime, cfg: BreakerConfig) -> Breaker:
    """Return ``breaker`` at ``now``: an OPEN breaker half-opens once ``open_seconds`` passed."""
    if breaker.state is BreakerState.OPEN and breaker.since is not None \
            and (now - breaker.since).total_seconds() >= cfg.open_seconds:
        return replace(breaker, state=BreakerState.HALF_OPEN, since=now, probes_ok=0)
    return breaker


def record(breaker: Breaker, now: datetime, cfg: BreakerConfig, error: str | None = None) -> Breaker:
    """Return the breaker after one venue call at ``now``: answered (``error`` None) or not (its type)."""
    breaker = advance(breaker, now, cfg)
    failed = error is not None
    if breaker.state is BreakerState.CLOSED:
        return _closed(breaker, now, cfg, error)
    if breaker.state is BreakerState.OPEN:
        if not failed:
            return breaker
        return replace(breaker, failures_while_down=breaker.failures_while_down + 1, last_error=error or "")
    if failed:  # a failed probe: open again, the same outage
        return replace(breaker, state=BreakerState.OPEN, since=now, probes_ok=0,
                       failures_while_down=breaker.failures_while_down + 1, last_error=error or "")
    if breaker.probes_ok + 1 >= cfg.probes_to_close:
        return Breaker(BreakerState.CLOSED, since=now)
    return replace(breaker, probes_ok=breaker.probes_ok + 1)


def _closed(breaker: Breaker, now: datetime, cfg: BreakerConfig, error: str | None) -> Breaker:
    failed = error is not None
    calls = tuple(c for c in breaker.calls if (now - c[0]).total_seconds() < cfg.window_seconds)
    calls = (*calls, (now, failed))
    streak = breaker.streak + 1 if failed else 0
    breaker = replace(breaker, calls=calls, streak=streak, last_error=error or breaker.last_error)
    if not failed:
        return breaker
    bad = sum(1 for _, f in calls if f)
    if streak >= cfg.failures:
        why = f"{streak} venue calls in a row got no answer (last: {error})"
    elif len(calls) >= cfg.min_calls and bad >= cfg.failure_rate * len(calls):
        why = (f"{bad} of {len(calls)} venue calls in {cfg.window_seconds:g}s got no answer "
               f"(last: {error})")
    else:
        return breaker
    return Breaker(BreakerState.OPEN, since=now, down_since=now, failures_while_down=bad, reason=why,
                   last_error=error or "")


def went_down(before: Breaker, after: Breaker) -> bool:
    """Return True when this change opened the breaker from CLOSED (the one "venue down" moment)."""
    return before.state is BreakerState.CLOSED and after.state is not BreakerState.CLOSED


def came_back(before: Breaker, after: Breaker) -> bool:
    """Return True when this change closed the breaker (the one "venue back" moment)."""
    return before.state is not BreakerState.CLOSED and after.state is BreakerState.CLOSED
