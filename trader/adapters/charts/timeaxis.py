"""Time-axis ticks on round UTC times (midnight, every 6 hours, the 1st of a month), with their labels.

Both the candle chart (candles at integer slots) and the equity chart (a date axis) use these, so their
labels read alike. A tick is chosen in time, not in slot or float-date space: a "nice" slot step such as
25 candles of 1h puts ticks at 07:00, 08:00 the next day, 09:00 the day after (a drift of an hour a
day), and matplotlib's AutoDateLocator warns for spans its interval table does not cover (about 3 days
with at most 7 ticks). Steps are tried from the finest up; the first that needs at most ``max_ticks``
ticks wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
_MONDAY_MS = 4 * DAY_MS  # 1970-01-01 was a Thursday; exchanges open weekly candles on Monday 00:00 UTC
_FIXED_MS = (MINUTE_MS, 5 * MINUTE_MS, 15 * MINUTE_MS, 30 * MINUTE_MS, HOUR_MS, 2 * HOUR_MS, 3 * HOUR_MS,
             4 * HOUR_MS, 6 * HOUR_MS, 12 * HOUR_MS, DAY_MS, 2 * DAY_MS, 7 * DAY_MS, 14 * DAY_MS)
_MONTHS = (1, 2, 3, 6, 12, 24, 60, 120)
MAX_TICKS = 7


@dataclass(frozen=True, slots=True)
class TimeTicks:
    """Tick times (epoch ms, UTC) and one label per tick."""

    times: tuple[int, ...]
    labels: tuple[str, ...]


def time_ticks(start_ms: int, end_ms: int, *, unit_ms: int = 1, max_ticks: int = MAX_TICKS) -> TimeTicks:
    """Return ticks on round UTC times within ``[start_ms, end_ms]``.

    ``unit_ms`` (a candle's length) keeps sub-month steps to its multiples, so every tick of a chart of
    whole candles falls on a candle's open time.
    """
    if end_ms < start_ms:
        raise ValueError(f"time range ends ({end_ms}) before it starts ({start_ms})")
    for step in _FIXED_MS:
        if step % unit_ms:
            continue
        origin = _MONDAY_MS if step % (7 * DAY_MS) == 0 else 0
        first = start_ms + (origin - start_ms) % step
        times = tuple(range(first, end_ms + 1, step))
        if len(times) <= max_ticks:
            return TimeTicks(times, _labels(times, step))
    for months in _MONTHS:
        times = _month_starts(start_ms, end_ms, months)
        if len(times) <= max_ticks:
            return TimeTicks(times, _labels(times, months * 31 * DAY_MS))
    times = _month_starts(start_ms, end_ms, 12 * (1 + (_years(start_ms, end_ms) // max_ticks)))
    return TimeTicks(times, _labels(times, 366 * DAY_MS))


def _years(start_ms: int, end_ms: int) -> int:
    return _utc(end_ms).year - _utc(start_ms).year + 1


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _month_starts(start_ms: int, end_ms: int, months: int) -> tuple[int, ...]:
    begin, end = _utc(start_ms), _utc(end_ms)
    index = begin.year * 12 + begin.month - 1
    index += -index % months  # the first month on the step's grid (January for yearly steps)
    out: list[int] = []
    while True:
        moment = datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)
        if moment > end:
            return tuple(out)
        if moment >= begin:
            out.append(int(moment.timestamp() * 1000))
        index += months


def _labels(times: Sequence[int], step_ms: int) -> tuple[str, ...]:
    labels: list[str] = []
    previous: datetime | None = None
    for ms in times:
        moment = _utc(ms)
        new_year = previous is None or previous.year != moment.year
        if step_ms >= 365 * DAY_MS:
            text = f"{moment:%Y}"
        elif step_ms >= 28 * DAY_MS:
            text = f"{moment:%b}\n{moment:%Y}" if new_year else f"{moment:%b}"
        elif moment.hour == 0 and moment.minute == 0 and step_ms >= DAY_MS:
            text = f"{moment:%d %b}\n{moment:%Y}" if new_year else f"{moment:%d %b}"
        else:
            new_day = previous is None or previous.date() != moment.date()
            text = f"{moment:%H:%M}\n{moment:%d %b}" if new_day else f"{moment:%H:%M}"
        labels.append(text)
        previous = moment
    return tuple(labels)


def candle_positions(timestamps: npt.NDArray[np.int64], tick_times: Sequence[int], candle_ms: int
                     ) -> list[float]:
    """Return the x position (candle slot, fractional inside a candle) of each tick time; NaN in a gap."""
    slots = np.searchsorted(timestamps, np.asarray(tick_times, dtype=np.int64), side="right") - 1
    out: list[float] = []
    for slot, ms in zip(slots, tick_times, strict=True):
        inside = 0 <= slot < len(timestamps) and ms - int(timestamps[slot]) < candle_ms
        out.append(float(slot) + (ms - int(timestamps[slot])) / candle_ms if inside else float("nan"))
    return out
