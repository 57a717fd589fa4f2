"""Turn engine events and risk-state changes into user alerts (entries, exits, stops, refusals, halts)."""

from __future__ import annotations

from collections.abc import Iterable

from trader.core.domain.alerts import Alert, Severity
from trader.core.domain.entries import RefusalReason
from trader.core.domain.ids import split_symbol
from trader.core.engine.events import (
    EngineEvent,
    EntryRefused,
    GroupClosed,
    GroupOpened,
    PositionClosed,
    PositionFailed,
    PositionOpened,
    StopMoved,
)
from trader.core.formatting import money, price, qty
from trader.core.positions.pair_group import GroupStatus
from trader.core.positions.state import PositionStatus
from trader.core.risk.state import RiskState

# Refusals worth telling the user about: a guard tripped (not the everyday "already in a position").
GUARD_REASONS = frozenset({
    RefusalReason.DAILY_LOSS_LIMIT, RefusalReason.MAX_DRAWDOWN, RefusalReason.CONSECUTIVE_STOPS,
    RefusalReason.MAX_TRADES_PER_DAY, RefusalReason.INSUFFICIENT_FUNDS,
})


def event_alerts(events: Iterable[EngineEvent], *, manual: bool = False) -> list[Alert]:
    """Return the alerts for ``events``; ``manual`` also reports every refusal (a forced entry)."""
    alerts: list[Alert] = []
    for event in events:
        alert = _alert(event, manual)
        if alert is not None:
            alerts.append(alert)
    return alerts


def _alert(event: EngineEvent, manual: bool) -> Alert | None:
    if isinstance(event, GroupOpened | GroupClosed):
        return _group_alert(event)
    if isinstance(event, PositionOpened):
        p = event.position
        return Alert("entry", f"Opened {p.direction.value} {p.symbol} {qty(p.filled)} "
                              f"@ {price(p.entry_price)} (stop {price(p.stop_price)}, {p.protection.value}) "
                              f"[{p.strategy}] {p.id}")
    if isinstance(event, StopMoved):
        change = f"placed at {price(event.new)}" if event.old is None else \
            f"moved {price(event.old)} -> {price(event.new)}"
        return Alert("stop_moved", f"Stop {change} on {event.symbol} ({event.position_id})")
    if isinstance(event, PositionClosed):
        p = event.position
        if p.status is PositionStatus.REJECTED:
            why = p.note or "no reason given"
            return Alert("rejected", f"Entry {p.symbol} rejected by the exchange: {why} ({p.id})",
                         Severity.WARNING)
        if p.status is PositionStatus.CANCELLED:
            return Alert("exit", f"Entry {p.symbol} cancelled before it filled ({p.id})")
        reason = p.exit_reason.value if p.exit_reason is not None else "unknown"
        pnl = money(p.realised_pnl, split_symbol(p.symbol)[1], sign=True)
        return Alert("exit", f"Closed {p.symbol} ({reason}) @ {price(p.exit_price)}: "
                             f"PnL {pnl} [{p.strategy}] {p.id}",
                     Severity.INFO if p.realised_pnl >= 0 else Severity.WARNING)
    if isinstance(event, PositionFailed):
        p = event.position
        return Alert("error", f"Position {p.id} on {p.symbol} needs attention: {p.note}", Severity.ERROR,
                     dedupe_key=f"failed:{p.id}")
    if isinstance(event, EntryRefused):
        if manual or event.refusal.reason in GUARD_REASONS:
            key = f"guard:{event.refusal.reason.value}:{event.at:%Y-%m-%d}"
            return Alert("guard", f"Entry {event.symbol} refused [{event.strategy}]: {event.refusal}",
                         Severity.WARNING, dedupe_key=key)
    return None


def _group_alert(event: GroupOpened | GroupClosed) -> Alert:
    g = event.group
    y, x = g.symbols
    legs = " / ".join(f"{leg.side.value} {leg.symbol} {qty(leg.held)} @ {price(book.entry_price)}"
                      for leg, book in zip(g.group.legs, g.books, strict=True))
    spread = "long" if g.side > 0 else "short"
    quote = split_symbol(y)[1]
    if isinstance(event, GroupOpened):
        return Alert("entry", f"Opened pair group {spread} {y} / {x}: {legs} [{g.strategy}] {g.id}")
    if g.group.status is GroupStatus.FAILED:
        text = (f"Pair group {y} / {x} did not open: a leg failed and the other was sent back "
                f"(PnL {money(g.realised_pnl, quote, sign=True)}) [{g.strategy}] {g.id}")
        return Alert("rejected", text, Severity.WARNING)
    return Alert("exit", f"Closed pair group {y} / {x} ({g.exit_reason or 'unknown'}): "
                         f"PnL {money(g.realised_pnl, quote, sign=True)} [{g.strategy}] {g.id}",
                 Severity.INFO if g.realised_pnl >= 0 else Severity.WARNING)


def risk_alerts(before: RiskState, after: RiskState) -> list[Alert]:
    """Return the alerts for a change of the trading state (halted, paused, resumed)."""
    if before.trading_state == after.trading_state:
        return []
    state = after.trading_state.value
    text = f"Trading {state}" + (f": {after.halt_reason}" if after.halt_reason else "")
    severity = Severity.CRITICAL if state == "halted" else Severity.WARNING
    return [Alert("halt", text, severity)]
