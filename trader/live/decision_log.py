"""One log line per trading decision (signal, refusal, order, fill, exit) for the console and the log file.

Signals that change nothing (an exit of a direction not held) are logged at DEBUG.

The replay driver and the scheduler's tick jobs both call these, so a demo and a live run read alike.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from decimal import Decimal

from trader.core.domain.enums import Direction
from trader.core.domain.orders import Fill
from trader.core.engine.events import (
    EntryRefused,
    GroupClosed,
    GroupOpened,
    PositionClosed,
    PositionFailed,
    PositionOpened,
    StopMoved,
)
from trader.core.formatting import money, price, qty
from trader.live.trading import TickReport

logger = logging.getLogger("trader.decisions")


def log_ticks(reports: Sequence[TickReport]) -> int:
    """Log what one strategy's tick decided on its pairs (one engine cycle); return the line count."""
    if not reports:
        return 0
    sent = max(r.sent for r in reports)
    unresolved = max(r.unresolved for r in reports)
    lines = sum(_log_report(r) for r in reports)
    strategy = reports[0].strategy
    if sent:
        logger.info("[%s] %d order command(s) sent to the exchange", strategy, sent)
        lines += 1
    if unresolved:
        logger.warning("[%s] %d order command(s) with an unknown outcome stay in the outbox", strategy,
                       unresolved)
        lines += 1
    return lines


def log_tick(report: TickReport) -> int:
    """Log what one tick decided on one pair; return the number of lines written."""
    return log_ticks([report])


def _log_report(report: TickReport) -> int:
    signal = report.signal
    where = f"[{report.strategy}] {report.symbol}"
    if signal is None and report.candle_at is not None:  # a pairs tick: its z and beta are in the note
        if not report.events:
            logger.debug("%s: %s", where, report.note)
            return 0
        logger.info("%s: %s", where, report.note)
        return 1 + log_events(report.events)
    if signal is None:
        if report.note:
            logger.info("%s: skipped (%s)", where, report.note)
            return 1
        return 0
    lines = 0
    # An exit signal fires on many candles (every one below the slow EMA, say); it is news only for a
    # position it closes, so an exit of a direction the strategy does not hold on the pair (every
    # "exit short" of a long-only spot strategy) goes to DEBUG. A short entry is news when the engine
    # did something with it on this pair (a refusal, an opening).
    wanted = {"enter long": signal.enter_long,
              "enter short": signal.enter_short and bool(report.events),
              "exit long": signal.exit_long and Direction.LONG in report.held,
              "exit short": signal.exit_short and Direction.SHORT in report.held}
    shown = [name for name, on in wanted.items() if on]
    quiet = [name for name, on in (("enter short", signal.enter_short), ("exit long", signal.exit_long),
                                   ("exit short", signal.exit_short)) if on and name not in shown]
    reason = f" because {signal.reason}" if signal.reason else ""
    if shown:
        logger.info("%s: signal %s (confidence %.2f)%s", where, " + ".join(shown), signal.confidence, reason)
        lines += 1
    if quiet:
        logger.debug("%s: signal %s, nothing to act on%s", where, " + ".join(quiet), reason)
    return lines + log_events(report.events)


def log_events(events: Iterable[object]) -> int:
    """Log engine events (refusals, openings, stop moves, closes, failures); return the line count."""
    lines = 0
    for event in events:
        if isinstance(event, EntryRefused):
            logger.info("[%s] %s: entry refused: %s", event.strategy, event.symbol, event.refusal)
        elif isinstance(event, PositionOpened):
            p = event.position
            logger.info("[%s] %s: opened %s %s @ %s, stop %s, take-profit %s (%s)", p.strategy, p.symbol,
                        p.direction.value, qty(p.filled), price(p.entry_price), _level(p.stop_price),
                        _level(p.take_profit), p.id)
        elif isinstance(event, StopMoved):
            logger.info("%s: stop moved %s -> %s (%s)", event.symbol, _level(event.old), price(event.new),
                        event.position_id)
        elif isinstance(event, PositionClosed):
            p = event.position
            why = p.exit_reason.value if p.exit_reason is not None else p.status.value
            logger.info("[%s] %s: closed (%s) @ %s, PnL %s (%s)", p.strategy, p.symbol, why,
                        _level(p.exit_price), money(p.realised_pnl, _quote(p.symbol), sign=True), p.id)
        elif isinstance(event, GroupOpened | GroupClosed):
            g = event.group
            legs = ", ".join(f"{leg.side.value} {leg.symbol} {qty(leg.held)} @ {_level(book.entry_price)}"
                             for leg, book in zip(g.group.legs, g.books, strict=True))
            pnl = money(g.realised_pnl, _quote(g.group.legs[0].symbol), sign=True)
            what = "opened" if isinstance(event, GroupOpened) else \
                f"{g.group.status.value} ({g.exit_reason or 'a leg failed'}), PnL {pnl}"
            logger.info("[%s] pair group %s: %s (%s)", g.strategy, what, legs, g.id)
        elif isinstance(event, PositionFailed):
            logger.error("%s: position %s needs attention: %s", event.position.symbol, event.position.id,
                         event.position.note)
        else:
            continue
        lines += 1
    return lines


def log_fills(fills: Iterable[Fill]) -> int:
    """Log simulated or venue executions; return the line count."""
    lines = 0
    for fill in fills:
        fee = money(fill.fee) if fill.fee_currency == _quote(fill.symbol) else qty(fill.fee)
        logger.info("%s: fill %s %s @ %s, fee %s %s (%s)", fill.symbol, fill.side.value, qty(fill.amount),
                    price(fill.price), fee, fill.fee_currency, fill.client_order_id)
        lines += 1
    return lines


def _quote(symbol: str) -> str:
    """Return the pair's quote currency (a perpetual's ``BTC/USDT:USDT`` too): money here is in it."""
    return symbol.partition("/")[2].partition(":")[0]


def _level(value: Decimal | None) -> str:
    """Return a price level as a person reads it; an absent one (no take-profit) is '-'."""
    return "-" if value is None else price(value)
