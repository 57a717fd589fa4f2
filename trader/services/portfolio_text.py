"""Plain-text tables of baskets, valuations, holdings and rebalancing (the CLI prints them; Telegram
wraps them in <pre>). Every number goes through ``trader.core.formatting``; a stale price is written STALE
beside the asset, in its category's row and in the header, never shown as fresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from trader.core.formatting import money, percent, price, qty
from trader.services.portfolio_dto import (
    AssetValue,
    BasketBuyResult,
    BasketInfo,
    BasketValuation,
    HoldingView,
    RebalancePlan,
    TrackResult,
)

STALE = "STALE"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _age(now: datetime, at: datetime) -> str:
    seconds = max(int((now - at).total_seconds()), 0)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h" if seconds < 172800 else f"{seconds // 86400}d"


def baskets_text(items: Sequence[BasketInfo]) -> str:
    """Return the list of baskets: name, assets, categories, amount and whether anything is held."""
    lines = []
    for b in items:
        amount = money(b.amount, b.quote) if b.amount is not None else "weights"
        held = f", {b.held} holding(s)" if b.held else ", nothing held"
        lines.append(f"{b.name}: {b.asset_count} assets in {categories(len(b.categories))}, {amount}{held}")
        if b.description:
            lines.append(f"  {b.description}")
    return "\n".join(lines)


def basket_text(info: BasketInfo) -> str:
    """Return one basket's definition: each category with its assets."""
    lines = [f"{info.name} ({info.quote}): {info.description}"]
    for c in info.categories:
        lines.append(f"{c.title} [{c.id}], {len(c.assets)} assets: {c.description}")
        lines.append("  " + " ".join(c.assets))
    return "\n".join(lines)


def valuation_header(v: BasketValuation) -> list[str]:
    """Return the totals lines, the STALE line and the unpriced line of a valuation."""
    lines = [f"Basket {v.name} ({v.quote}) at {_when(v.at)}",
             f"Value {money(v.value, v.quote)}  cost {money(v.cost, v.quote)}  "
             f"PnL {money(v.pnl, v.quote, sign=True)} ({percent(v.pnl_fraction, why='no cost')})"]
    if v.proceeds:
        lines.append(f"Sold (stops, take-profits, closes) for {money(v.proceeds, v.quote)}, in the PnL")
    if v.stale:
        lines.append(f"{STALE} prices ({len(v.stale)}): {', '.join(v.stale)}")
    if v.unpriced:
        lines.append(f"No price, left out ({len(v.unpriced)}): {', '.join(v.unpriced)}")
    return lines


def valuation_text(v: BasketValuation, *, assets: bool = False) -> str:
    """Return a valuation: totals, one row per category, the movers, and with ``assets`` every asset."""
    lines = valuation_header(v)
    lines.append("")
    lines.append(f"{'category':<16} {'value':>12} {'PnL':>11} {'PnL %':>8} {'weight':>7} {'drift':>7}")
    for c in v.categories:
        stale = f" {STALE} {c.stale}" if c.stale else ""
        weight = percent(c.weight, sign=False, digits=1, why="-")
        drift = percent(c.drift, digits=1, why="-")
        lines.append(f"{c.id[:16]:<16} {money(c.value):>12} {money(c.pnl, sign=True):>11} "
                     f"{percent(c.pnl_fraction, why='-'):>8} {weight:>7} {drift:>7}{stale}")
    if v.best:
        lines.append("")
        lines.append("Best:  " + ", ".join(_mover(a) for a in v.best))
        lines.append("Worst: " + ", ".join(_mover(a) for a in v.worst))
    if assets:
        lines.append("")
        lines += [_asset_row(a, v.at) for a in v.assets]
    return "\n".join(lines)


def _mover(a: AssetValue) -> str:
    return f"{a.symbol} {percent(a.pnl_fraction)}" + (f" {STALE}" if a.stale else "")


def _asset_row(a: AssetValue, now: datetime) -> str:
    if a.price is None:
        return f"{a.symbol:<8} {qty(a.quantity):>18} no price"
    flag = f" {STALE}" if a.stale else ""
    return (f"{a.symbol:<8} {qty(a.quantity):>18} @ {price(a.price.price):>14} "
            f"({a.price.source}, {_age(now, a.price.at)} old){flag}  value {money(a.value)}  "
            f"PnL {money(a.pnl, sign=True)} ({percent(a.pnl_fraction, why='-')})  "
            f"weight {percent(a.weight, sign=False, digits=1, why='-')} "
            f"target {percent(a.target, sign=False, digits=1)}")


def holdings_text(items: Sequence[HoldingView]) -> str:
    """Return the stored purchases, one per line, by basket."""
    if not items:
        return "No holdings: track a basket (tradebot portfolio track NAME) or buy one."
    lines = []
    basket = None
    for h in items:
        if h.basket != basket:
            basket = h.basket
            lines.append(f"{basket}:")
        sold = f"  sold for {money(h.proceeds, h.quote)}" if h.proceeds else ""
        lines.append(f"  {h.asset:<8} {qty(h.quantity):>18}  cost {money(h.cost, h.quote)}{sold}  "
                     f"{h.kind}  {_when(h.acquired_at)}")
    return "\n".join(lines)


def rebalance_text(plan: RebalancePlan) -> str:
    """Return the rebalancing report: trades first, then what was skipped and why."""
    q = plan.quote
    lines = [f"Rebalance {plan.basket} (value {money(plan.value, q)}): buy {money(plan.buys, q)}, "
             f"sell {money(plan.sells, q)}, fees about {money(plan.fees, q)}. A report: nothing is traded."]
    for line in plan.lines:
        if line.quantity > 0:
            note = f" ({line.skipped})" if line.skipped else ""
            lines.append(f"  {line.side:<4} {qty(line.quantity):>18} {line.symbol:<8} "
                         f"{money(line.value, q):>14}  fee {money(line.fee, q)}{note}")
    skipped = [f"{line.symbol} ({line.skipped})" for line in plan.lines if line.quantity == 0]
    if skipped:
        lines.append("No order: " + ", ".join(skipped))
    return "\n".join(lines)


def track_text(result: TrackResult) -> str:
    """Return what a tracked-only purchase recorded."""
    text = (f"Tracking {result.basket}: {len(result.tracked)} asset(s) bought virtually on {result.day} "
            f"for {money(result.cost, result.quote)}.")
    if result.missing:
        text += f"\nNo price that day (not tracked): {', '.join(result.missing)}"
    return text


def buy_text(result: BasketBuyResult) -> str:
    """Return what a basket buy sent, what the rules refused and what the exchange does not list."""
    lines = [f"Basket {result.basket} against {result.quote}: {len(result.bought)} order(s) sent, "
             f"{len(result.refused)} refused, {len(result.not_listed)} not listed."]
    lines += [f"  {asset}: {message}" for asset, message in result.bought]
    lines += [f"  {asset} refused: {why}" for asset, why in result.refused]
    if result.not_listed:
        lines.append("Not listed: " + ", ".join(result.not_listed))
    return "\n".join(lines)


def categories(count: int) -> str:
    """Return '1 category' or 'N categories'."""
    return f"{count} {'category' if count == 1 else 'categories'}"
