"""Pair groups (the pairs strategy's two-legged positions) as Telegram HTML, for /status and /positions.

Numbers go through ``trader.core.formatting`` (via ``handlers.formatting``), as everywhere else.
"""

from __future__ import annotations

from decimal import Decimal

from handlers.formatting import e, signed
from trader.core.formatting import price, qty, ratio
from trader.services.pair_dto import PairGroupView, PairLegView


def pair_groups(groups: tuple[PairGroupView, ...]) -> str:
    """Return the open pair groups with both legs ("" when there are none)."""
    if not groups:
        return ""
    blocks = [_group(g) for g in groups]
    return "<b>Pair groups</b>\n" + "\n\n".join(blocks)


def with_groups(text: str, groups: tuple[PairGroupView, ...], empty: str = "No open positions.") -> str:
    """Return ``text`` (a position list) followed by the pair groups; only the groups when ``text`` is
    the empty-list message and groups are open."""
    shown = pair_groups(groups)
    if not shown:
        return text
    if text.endswith(empty):
        text = text[: -len(empty)].rstrip("\n")
    return f"{text}\n\n{shown}" if text else shown


def close_lines(groups: tuple[PairGroupView, ...]) -> str:
    """Return the lines /close adds for the pair groups it would close (both legs each), "" for none."""
    lines = []
    for g in groups:
        quote = g.legs[0].pair.split("/")[-1]
        legs = " + ".join(f"{e(leg.pair)} {e(leg.side.value)} {qty(leg.amount)}" for leg in g.legs)
        lines.append(f"\npair group <code>{e(g.id)}</code>: {legs} PnL {signed(g.pnl, quote)}")
    return "".join(lines)


def _group(g: PairGroupView) -> str:
    quote = g.legs[0].pair.split("/")[-1]
    y, x = g.legs[0].pair, g.legs[1].pair
    head = (f"{_dot(g.pnl)} <code>{e(g.id)}</code> {e(g.spread)} spread {e(y)} / {e(x)} · {e(g.status)}"
            f" · beta {ratio(g.beta, digits=3)} · PnL {signed(g.pnl, quote)}")
    return "\n".join([head, *(_leg(leg, quote) for leg in g.legs)])


def _leg(leg: PairLegView, quote: str) -> str:
    entry = price(leg.entry_price) if leg.entry_price is not None else "not filled"
    now = f" → {price(leg.current_price)}" if leg.current_price is not None else ""
    return (f"  {e(leg.pair)} {e(leg.side.value)} {qty(leg.amount)} @ {entry}{now}"
            f" · PnL {signed(leg.pnl, quote)}")


def _dot(value: Decimal) -> str:
    return "🟢" if value > 0 else "🔴" if value < 0 else "⚪"
