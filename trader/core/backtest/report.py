"""Plain-text backtest report (fits a Telegram message) and CSV/JSON exports, all as strings.

Writing files is the caller's job (the CLI), so this module stays pure.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pandas as pd

from trader.core.analytics import tables
from trader.core.analytics.kpis import Kpis
from trader.core.analytics.records import TradeRecord
from trader.core.backtest.result import BacktestResult
from trader.core.backtest.stops import TradingStops
from trader.core.engine.pair_groups import split_leg_id
from trader.core.formatting import money, number, percent, price, qty, ratio

MAX_DAYS_SHOWN = 5
MAX_GROUPS_SHOWN = 5
# Fractions stay fractions (0.019 = 1.9 %), as in every other export: the CSV is data, not display.
TRADE_COLUMNS = ("symbol", "strategy", "direction", "entry_time", "exit_time", "entry_price", "exit_price",
                 "amount", "fees", "pnl", "return_fraction", "exit_reason", "confidence", "mae", "mfe",
                 "entry_reason", "leverage", "funding")


def text_report(result: BacktestResult, kpis: Kpis | None = None) -> str:
    """Return a short multi-line summary: period, return, risk ratios, trade statistics, the by-pair and
    by-strategy tables and the assumptions; every number goes through ``trader.core.formatting``."""
    k = kpis or result.kpis()
    eq, tr, q = k.equity, k.trades, result.quote
    days = (result.end - result.start).total_seconds() / 86_400
    deepest, longest = eq.max_drawdown, eq.longest_drawdown
    reasons = Counter(t.exit_reason for t in result.trades)
    short = "under 2 days"
    lines = [
        f"Backtest {result.strategy} · {', '.join(result.pairs)} · {result.timeframe}",
        f"{result.start:%Y-%m-%d %H:%M} → {result.end:%Y-%m-%d %H:%M} UTC "
        f"({number(days, digits=0)} days, {result.candles:,} candles)",
        f"Equity {money(eq.start_equity)} → {money(eq.end_equity, q)} "
        f"(return {percent(eq.total_return)}, CAGR {percent(eq.cagr, why='under a second')})",
        f"Sharpe {ratio(eq.sharpe, why=short)} · Sortino {ratio(eq.sortino, why='no losing day')} · "
        f"Calmar {ratio(eq.calmar, why='no drawdown')} · "
        f"Volatility {percent(eq.volatility, sign=False, why=short)}",
        f"Max drawdown {percent(deepest.depth, sign=False)} lasting {_days(deepest.duration)} · "
        f"longest drawdown {_days(longest.duration)} ({percent(longest.depth, sign=False)} deep)",
        f"Trades {tr.trades} · win rate {percent(tr.win_rate, sign=False, digits=1, why='no trades')} · "
        f"profit factor {ratio(tr.profit_factor, why=_no_factor(tr.wins, tr.losses))} · "
        f"expectancy {money(tr.expectancy, q, why='no trades')}",
        f"Exposure {percent(k.exposure_time, sign=False, digits=1)} · "
        f"{ratio(k.trades_per_day, why='no time')} trades/day · fees {money(tr.total_fees, q)}",
    ]
    records = result.trades
    for title, rows in (("By pair", tables.by_pair(records)), ("By strategy", tables.by_strategy(records))):
        if rows:
            lines.append(f"{title}:")
            lines += [f"  {r.key}: {money(r.pnl, q, sign=True)} over {r.trades} trades, "
                      f"win {percent(r.win_rate, sign=False, digits=1)}, "
                      f"profit factor {ratio(r.profit_factor, why=_no_factor(r.wins, r.losses))}, "
                      f"avg {percent(r.average_return)}" for r in rows]
    lines += group_lines(records, q)
    if reasons:
        lines.append("Exits: " + ", ".join(f"{name} {count}" for name, count in reasons.most_common()))
    if result.refused_orders:
        lines.append(f"Entries rejected by the simulated venue: {result.refused_orders}")
    lines += stop_lines(result.stops)
    lines += [f"{name}: {text}" for name, text in result.assumptions.items()]
    return "\n".join(lines)


def group_lines(records: Sequence[TradeRecord], quote: str, shown: int = MAX_GROUPS_SHOWN) -> list[str]:
    """Return the pair groups among ``records`` leg by leg (the last ``shown``): legs are trades whose id
    is ``<group id>:<leg>`` (``pair_groups.leg_position_id``); nothing when there are none."""
    groups: dict[str, list[TradeRecord]] = {}
    for t in records:
        split = split_leg_id(t.id)
        if split is not None:
            groups.setdefault(split[0], []).append(t)
    if not groups:
        return []
    lines = [f"Pair groups {len(groups)}" + (f", the last {shown}:" if len(groups) > shown else ":")]
    for group_id, legs in list(groups.items())[-shown:]:
        legs.sort(key=lambda t: t.id)  # the y leg (``:0``) first
        total = sum((t.pnl for t in legs), Decimal(0))
        first = legs[0]
        lines.append(f"  {group_id} {first.entry_time:%Y-%m-%d %H:%M} → {first.exit_time:%Y-%m-%d %H:%M} "
                     f"{first.exit_reason}: {money(total, quote, sign=True)}")
        lines += [f"    {t.symbol} {t.direction.value} {qty(t.amount)} @ {price(t.entry_price)} → "
                  f"{price(t.exit_price)}: {money(t.pnl, quote, sign=True)} (fees {money(t.fees, quote)})"
                  for t in legs]
    return lines


def _days(span: timedelta) -> str:
    """Return a drawdown's duration in days with one decimal (hours matter on short runs)."""
    return f"{number(span.total_seconds() / 86_400, digits=1)} d"


def _no_factor(wins: int, losses: int) -> str:
    """Return why a profit factor is not a number."""
    return "no losing trades" if wins and not losses else "no winning or losing trades"


def stop_lines(stops: TradingStops) -> list[str]:
    """Return why trading stopped, in words: halts, daily-loss days, refused entry signals by rule."""
    lines = [f"Trading halted {h.at:%Y-%m-%d %H:%M} UTC: {h.reason}; no new entries after it"
             for h in stops.halts]
    days = stops.daily_loss_days
    if days:
        shown = ", ".join(f"{d:%Y-%m-%d}" for d in days[:MAX_DAYS_SHOWN])
        more = f" and {len(days) - MAX_DAYS_SHOWN} more" if len(days) > MAX_DAYS_SHOWN else ""
        lines.append(f"Daily loss limit hit on {len(days)} day(s): {shown}{more} (no entries for the rest "
                     "of each)")
    if stops.refusals:
        parts = [f"{r.reason} {r.count} (from {r.first:%Y-%m-%d %H:%M})" for r in stops.refusals]
        lines.append(f"Entry signals refused by risk: {stops.refused}: {', '.join(parts)}")
    return lines


def stops_json(stops: TradingStops) -> dict[str, Any]:
    """Return the run's halts, daily-loss days and refusals as JSON-ready values (times ISO 8601 UTC)."""
    return {
        "halts": [{"at": h.at.isoformat(), "reason": h.reason} for h in stops.halts],
        "daily_loss_days": [d.isoformat() for d in stops.daily_loss_days],
        "refused_entries": stops.refused,
        "refusals": [{"reason": r.reason, "count": r.count, "first": r.first.isoformat(),
                      "last": r.last.isoformat()} for r in stops.refusals],
    }


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def trades_csv(result: BacktestResult) -> str:
    """Return the trades as CSV text (Decimal money unchanged, times ISO 8601 UTC)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TRADE_COLUMNS)
    for t in result.trades:
        writer.writerow([t.symbol, t.strategy, t.direction.value, t.entry_time.isoformat(),
                         t.exit_time.isoformat(), t.entry_price, t.exit_price, t.amount, t.fees, t.pnl,
                         t.return_fraction, t.exit_reason, "" if t.confidence is None else repr(t.confidence),
                         repr(t.mae), repr(t.mfe), t.entry_reason, t.leverage, t.funding])
    return out.getvalue()


def kpi_summary(result: BacktestResult, kpis: Kpis | None = None) -> dict[str, Any]:
    """Return the run's KPIs as JSON-ready values: what the JSON export and every stored run carry.

    Fractions stay fractions (0.12 = 12 %); money is a Decimal string; an infinite ratio is "inf" and
    an undefined one null, so every database's JSON type accepts the document.
    """
    k = kpis or result.kpis()
    eq, tr = k.equity, k.trades
    summary = {
        "total_return": eq.total_return, "cagr": eq.cagr, "sharpe": eq.sharpe, "sortino": eq.sortino,
        "calmar": eq.calmar, "max_drawdown": eq.max_drawdown.depth,
        "max_drawdown_days": eq.max_drawdown.duration.total_seconds() / 86_400,
        "longest_drawdown_days": eq.longest_drawdown.duration.total_seconds() / 86_400,
        "volatility": eq.volatility,
        "trades": tr.trades, "win_rate": tr.win_rate, "profit_factor": tr.profit_factor,
        "expectancy": None if tr.expectancy is None else str(tr.expectancy),
        "total_pnl": str(tr.total_pnl), "total_fees": str(tr.total_fees),
        "exposure_time": k.exposure_time, "trades_per_day": k.trades_per_day,
        "end_equity": result.end_equity,
    }
    return {key: _finite(value) if isinstance(value, float) else value for key, value in summary.items()}


def result_json(result: BacktestResult, kpis: Kpis | None = None) -> str:
    """Return the run as JSON: settings, assumptions, KPIs, trades and the equity curve."""
    payload: dict[str, Any] = {
        "strategy": result.strategy, "params": result.params, "pairs": list(result.pairs),
        "timeframe": result.timeframe, "start": result.start.isoformat(), "end": result.end.isoformat(),
        "start_balance": str(result.start_balance), "quote": result.quote, "candles": result.candles,
        "engine_steps": result.steps, "rejected_entries": result.refused_orders,
        "trading_stops": stops_json(result.stops),
        "assumptions": dict(result.assumptions),
        "kpis": kpi_summary(result, kpis),
        "trades": [dict(zip(TRADE_COLUMNS, row, strict=True))
                   for row in csv.reader(io.StringIO(trades_csv(result)))][1:],
        # columns, not pairs: a year of minutes is 525,600 points
        "equity": {"time_ms": (pd.DatetimeIndex(result.equity.index).asi8 // 1_000_000).tolist(),
                   "value": result.equity.to_numpy().round(8).tolist()},
    }
    return json.dumps(payload, indent=1, default=str)


def _finite(value: float) -> float | str | None:
    if math.isnan(value):
        return None
    return value if math.isfinite(value) else ("inf" if value > 0 else "-inf")
