"""The drift report as plain text, shared by `tradebot drift`, /drift and the drift alert.

Numbers go through the one formatter (``trader.core.formatting``): money with a sign for PnL differences,
prices and quantities as everywhere else. Telegram escapes this text into a <pre> block.
"""

from __future__ import annotations

from datetime import datetime

from trader.core.formatting import money, price, qty
from trader.services.drift_dto import DriftSide, DriftTradeView, DriftView


def _minute(moment: datetime) -> str:
    """Return a UTC time to the minute: 2024-03-01 14:00."""
    return moment.strftime("%Y-%m-%d %H:%M")


def _drift_side(label: str, side: DriftSide | None) -> str:
    if side is None:
        return f"  {label}: no trade"
    return (f"  {label}: {_minute(side.entry_time)} @ {price(side.entry_price)} → "
            f"{_minute(side.exit_time)} @ {price(side.exit_price)} {side.exit_reason}, {qty(side.amount)}, "
            f"PnL {money(side.pnl, sign=True)}")


def drift_trade(t: DriftTradeView) -> list[str]:
    """Return one compared trade: both sides, then its PnL difference by part and why decisions differ."""
    mark = "LOGIC" if t.is_logic else "exec" if t.differs else "same"
    lines = [f"[{mark}] {t.status} {t.pair} {t.direction.value} {t.strategy} {_minute(t.entry_time)}",
             _drift_side("backtest", t.backtest), _drift_side("account ", t.account)]
    if t.differs:
        lines.append(f"  PnL difference {money(t.pnl_difference, sign=True)}: slippage "
                     f"{money(t.slippage, sign=True)}, fees {money(t.fees, sign=True)}, size "
                     f"{money(t.size, sign=True)}, logic {money(t.logic, sign=True)}"
                     + (f" ({', '.join(t.why)})" if t.why else ""))
    return lines


def drift_report(view: DriftView, *, every_trade: bool = False) -> str:
    """Return the drift report as plain text: summary, parameter changes, then the trades that differ
    (``every_trade``: all of them)."""
    logic = len(view.logic_differences)
    names = ", ".join(view.strategies) or "no strategy"
    lines = [f"Drift {_minute(view.start)} → {_minute(view.end)} UTC ({names})",
             f"Trades: {view.matched} matched, {view.missing} missing, {view.extra} extra; "
             f"{logic} logic difference{'' if logic == 1 else 's'}",
             f"PnL difference ({view.quote}): slippage {money(view.slippage, sign=True)}, fees "
             f"{money(view.fees, sign=True)}, size {money(view.size, sign=True)}, logic "
             f"{money(view.logic, sign=True)}"]
    lines += [f"Parameter {c.key}: {c.old} → {c.new} at {_minute(c.at)}" for c in view.changes]
    lines += [f"Note: {n}" for n in view.notes]
    shown = view.trades if every_trade else view.differing
    if shown:
        lines.append("")
        for t in shown:
            lines += drift_trade(t)
    elif view.trades:
        lines.append("Every trade is the same in the backtest and the account.")
    return "\n".join(lines)


def drift_alert(view: DriftView) -> str:
    """Return the alert text for a report with logic differences: the count and the newest few trades."""
    found = view.logic_differences
    lines = [f"Drift: {len(found)} trade(s) differ from the backtest in their decisions "
             f"({_minute(view.start)} → {_minute(view.end)} UTC)"]
    for t in found[-3:]:
        lines.append(f"{t.status} {t.pair} {_minute(t.entry_time)}: {', '.join(t.why)}, "
                     f"PnL difference {money(t.pnl_difference, view.quote, sign=True)}")
    lines.append("Details: /drift or tradebot drift")
    return "\n".join(lines)
