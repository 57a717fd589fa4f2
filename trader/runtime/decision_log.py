"""One log line per trading decision (signal, refusal, order, fill, exit) for the console and the log file.

The replay driver and the scheduler's tick jobs both call these, so a demo and a live run read alike.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from trader.domain.orders import Fill
from trader.engine.events import EntryRefused, PositionClosed, PositionFailed, PositionOpened, StopMoved
from trader.services.trading import TickReport

logger = logging.getLogger("trader.decisions")


def log_ticks(reports: Sequence[TickReport]) -> int:
    """Log what one strategy's tick decided on its pairs (one engine cycle); return the line count."""
    if not reports:
        return 0
    sent = max(r.sent for r in reports)
    unresolved = max(r.unresolved for r in reports)
    lines = sum(_log_report(r, acted=sent > 0) for r in reports)
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


def _log_report(report: TickReport, *, acted: bool) -> int:
    signal = report.signal
    where = f"[{report.strategy}] {report.symbol}"
    if signal is None:
        if report.note:
            logger.info("%s: skipped (%s)", where, report.note)
            return 1
        return 0
    lines = 0
    entries = ["enter long"] if signal.enter_long else []
    others = [n for n, on in (("enter short", signal.enter_short), ("exit long", signal.exit_long),
                              ("exit short", signal.exit_short)) if on]
    # Exit (and, spot-only, short) signals fire on many candles with nothing to act on; they are news
    # only when the cycle sent orders or produced events.
    shown = entries + (others if acted or report.events else [])
    exits = others
    if shown:
        reason = f" because {signal.reason}" if signal.reason else ""
        logger.info("%s: signal %s (confidence %.2f)%s", where, " + ".join(shown), signal.confidence, reason)
        lines += 1
    elif exits:
        logger.debug("%s: signal %s", where, " + ".join(exits))
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
                        p.direction.value, p.filled, p.entry_price, p.stop_price, p.take_profit, p.id)
        elif isinstance(event, StopMoved):
            logger.info("%s: stop moved %s -> %s (%s)", event.symbol, event.old, event.new, event.position_id)
        elif isinstance(event, PositionClosed):
            p = event.position
            why = p.exit_reason.value if p.exit_reason is not None else p.status.value
            logger.info("[%s] %s: closed (%s) @ %s, PnL %s (%s)", p.strategy, p.symbol, why, p.exit_price,
                        f"{p.realised_pnl:.2f}", p.id)
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
        logger.info("%s: fill %s %s @ %s, fee %s %s (%s)", fill.symbol, fill.side.value, fill.amount,
                    fill.price, fill.fee, fill.fee_currency, fill.client_order_id)
        lines += 1
    return lines
