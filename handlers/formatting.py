"""Pure DTO -> HTML message text for Telegram (parse_mode HTML); every dynamic string is escaped."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from html import escape

from trader.core import formatting as fmt
from trader.core.formatting import percent, price, qty, ratio
from trader.services.dto import (
    BacktestReport,
    BacktestRunView,
    BalanceView,
    BuyPreview,
    ClosePreview,
    ConfigView,
    ControlResult,
    GroupBy,
    GroupPerformance,
    HealthView,
    JobView,
    LockView,
    NewsView,
    PeriodTable,
    PositionView,
    ProfitView,
    SettingChange,
    SettingsView,
    StatusView,
    StrategyView,
    TradePage,
    VersionView,
)

MAX_MESSAGE = 4096
MAX_LOG_LINE = 700
MAX_VALUE = 200
MAX_CAPTION_SOURCE = 200  # escaping grows text at most 5-fold: 200 stays under Telegram's 1024
ERROR_MARK = "⚠️"


def e(value: object) -> str:
    """Return ``value`` as HTML-escaped text."""
    return escape(str(value), quote=False)


def money(value: Decimal | None, quote: str = "") -> str:
    """Return a quote-currency amount (``trader.core.formatting.money``) with the currency escaped."""
    return fmt.money(value, e(quote))


def signed(value: Decimal | None, quote: str = "") -> str:
    """Return an amount with an explicit sign (PnL)."""
    return fmt.money(value, e(quote), sign=True)


def pct(fraction: Decimal | float | None, *, sign: bool = True) -> str:
    """Return a fraction as a percentage with two decimals (``trader.core.formatting.percent``)."""
    return percent(fraction, sign=sign)


def when(moment: datetime | None) -> str:
    """Return a UTC timestamp to the minute ('never' when None)."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def caption(text: str) -> str:
    """Return a service-provided caption escaped and safely under the 1024-character caption limit."""
    return e(text[:MAX_CAPTION_SOURCE])


def error(text: str) -> str:
    """Return a user-facing error line (``text`` is escaped here)."""
    return f"{ERROR_MARK} {e(text)}"


def _dot(value: Decimal | float) -> str:
    return "🟢" if value > 0 else "🔴" if value < 0 else "⚪"


def position(p: PositionView, quote: str) -> str:
    """Return one position as a block of lines."""
    trail = f", trailing {pct(p.trailing_distance, sign=False)}" if p.trailing_active else ""
    strategy = f" · {e(p.strategy)}" if p.strategy else ""
    return (
        f"{_dot(p.pnl)} {_venue(p.venue)}<b>{e(p.pair)}</b> {e(p.direction.value)} <code>{e(p.id)}</code>"
        f"{strategy}\n"
        f"Amount {qty(p.amount)} · Entry {price(p.entry_price)} → {price(p.current_price)}\n"
        f"PnL <b>{signed(p.pnl, quote)}</b> ({pct(p.pnl_fraction)})\n"
        f"Stop {price(p.stop_price)} ({e(p.protection.value)}{trail}) · TP {price(p.take_profit)}\n"
        f"{_futures_line(p, quote)}Opened {when(p.opened_at)}"
    )


def _venue(venue: str) -> str:
    """Return the venue account's tag in front of a line ("" in a single-venue service)."""
    return f"[{e(venue)}] " if venue else ""


def _futures_line(p: PositionView, quote: str) -> str:
    """Return the perpetual swap's line (leverage, liquidation, funding), empty on spot."""
    if not p.is_futures:
        return ""
    paid = "paid" if p.funding >= 0 else "received"
    return (f"Leverage {qty(p.leverage)}x · Liquidation {price(p.liquidation_price)} · "
            f"Funding {paid} {money(abs(p.funding), quote)}\n")


def status(view: StatusView) -> str:
    """Return the /status message."""
    state = f"Trading <b>{e(view.state.value)}</b> ({e(view.mode.label)})"
    if view.halted_reason:
        state += f": {e(view.halted_reason)}"
    for v in view.venues:
        note = f": {e(v.note)}" if v.note else ""
        state += (f"\n{_venue(v.venue)}{e(v.exchange)} {e(v.mode.label)} · {e(v.state.value)} · "
                  f"{v.open_positions} open{note}")
    if not view.positions:
        return f"{state}\nNo open positions."
    blocks = [position(p, view.quote) for p in view.positions]
    return f"{state} · {len(view.positions)} open\n\n" + "\n\n".join(blocks)


def positions(items: tuple[PositionView, ...]) -> str:
    """Return the compact /positions list."""
    if not items:
        return "No open positions."
    lines = [f"{_dot(p.pnl)} {_venue(p.venue)}<code>{e(p.id)}</code> {e(p.pair)} {qty(p.amount)} @ "
             f"{price(p.entry_price)}"
             f" {pct(p.pnl_fraction)}{_futures_terms(p)}" for p in items]
    return "<b>Open positions</b>\n" + "\n".join(lines)


def _futures_terms(p: PositionView) -> str:
    """Return a perpetual swap's leverage and liquidation price for the compact list, empty on spot."""
    return f" · {qty(p.leverage)}x · liq. {price(p.liquidation_price)}" if p.is_futures else ""


def balance(view: BalanceView) -> str:
    """Return the /balance message."""
    lines = [f"<b>Equity</b> {money(view.equity, view.quote)} ({e(view.mode.label)})",
             f"Free {money(view.free, view.quote)} · In positions {money(view.exposure, view.quote)}"]
    if view.venues:
        lines[0] = f"<b>Equity, all venues</b> {money(view.equity, view.quote)}"
    for a in view.assets:
        worth = f" ≈ {money(a.value, view.quote)}" if a.value is not None else ""
        lines.append(f"{e(a.asset)}: {qty(a.total)} (free {qty(a.free)}){worth}")
    for v in view.venues:
        if v.note:
            lines.append(f"\n<b>{e(v.venue)}</b> ({e(v.exchange)}): {e(v.note)}")
            continue
        apart = "" if v.in_total else " (not in the total: other quote)"
        lines.append(f"\n<b>{e(v.venue)}</b> ({e(v.exchange)}, {e(v.mode.label)}) equity "
                     f"{money(v.equity, v.quote)}{apart}\n"
                     f"Free {money(v.free, v.quote)} · In positions {money(v.exposure, v.quote)}")
        for a in v.assets:
            worth = f" ≈ {money(a.value, v.quote)}" if a.value is not None else ""
            lines.append(f"{e(a.asset)}: {qty(a.total)} (free {qty(a.free)}){worth}")
    return "\n".join(lines)


def profit(view: ProfitView) -> str:
    """Return the /profit message (with several venue accounts: the totals, then each account's)."""
    span = f"last {view.days} days" if view.days else "all time"
    # with several accounts the equity-curve ratios exist per account only
    lines = [f"<b>Profit, {span}{', all venues' if view.venues else ''}</b>",
             *_profit_lines(view, curve=not view.venues)]
    for v in view.venues:
        apart = "" if v.in_total else " (not in the total: other quote)"
        lines += [f"\n<b>{e(v.venue)}</b>{apart}", *_profit_lines(v.profit, curve=True)]
    return "\n".join(lines)


def _profit_lines(view: ProfitView, *, curve: bool) -> list[str]:
    factor = f"Profit factor {ratio(view.profit_factor, why=_no_factor(view.wins, view.losses))} · "
    fees = f"Fees {money(view.fees, view.quote)}"
    return [
        f"Realised {signed(view.realised, view.quote)} · Unrealised {signed(view.unrealised, view.quote)}",
        f"Closed trades {view.closed_trades} (won {view.wins}, lost {view.losses}) · "
        f"Win rate {pct(view.win_rate, sign=False)}",
        *([f"{factor}Max drawdown {pct(view.max_drawdown, sign=False)} · {fees}",
           f"Sharpe {ratio(view.sharpe, why=NO_RATIO)} · Sortino {ratio(view.sortino, why=NO_RATIO)} · "
           f"Volatility {percent(view.volatility, sign=False, why=NO_RATIO)}"] if curve else [factor + fees]),
        f"First trade {when(view.first_trade_at)}",
    ]


NO_RATIO = "under 2 days of equity"


def _no_factor(wins: int, losses: int) -> str:
    """Return why a profit factor is not a number: no losses to divide by, or no decided trades."""
    return "no losing trades" if wins and not losses else "no winning or losing trades"


def performance(rows: tuple[GroupPerformance, ...], by: GroupBy = GroupBy.PAIR) -> str:
    """Return the /performance table, by pair or by strategy."""
    if not rows:
        return "No closed trades yet."
    lines = [f"{_dot(r.pnl)} {e(r.key)}: {signed(r.pnl)} over {r.trades} trades, "
             f"avg {pct(r.pnl_fraction)}, win {pct(r.win_rate, sign=False)}" for r in rows]
    return f"<b>Performance by {e(by.value)}</b>\n" + "\n".join(lines)


def periods(table: PeriodTable) -> str:
    """Return the /daily, /weekly or /monthly table."""
    title = {"day": "Daily", "week": "Weekly", "month": "Monthly"}[table.kind.value]
    lines = [f"<code>{r.start.isoformat()}</code> {signed(r.pnl, table.quote)} ({pct(r.pnl_fraction)}) "
             f"· {r.trades} trades" for r in table.rows]
    return f"<b>{title} profit</b>\n" + ("\n".join(lines) if lines else "No data.")


def trade_page(page: TradePage) -> str:
    """Return one page of /trades."""
    q = page.query
    filters = " ".join(e(x) for x in (q.pair, q.outcome.value if q.outcome else None) if x)
    head = f"<b>Trades</b> {filters} · page {q.page + 1}/{page.pages} · {page.total} total".replace("  ", " ")
    if not page.trades:
        return head + "\nNo trades match."
    lines = [f"{_dot(t.pnl)} {_venue(t.venue)}<code>{e(t.id)}</code> {e(t.pair)} {signed(t.pnl, page.quote)} "
             f"({pct(t.pnl_fraction)}) · {e(t.exit_reason.value)} · {t.closed_at:%Y-%m-%d}"
             for t in page.trades]
    return head + "\n" + "\n".join(lines)


def health(view: HealthView) -> str:
    """Return the /health message."""
    def mark(ok: bool) -> str:
        return "✅" if ok else "❌"

    lines = [f"Trading <b>{e(view.state.value)}</b> ({e(view.mode.label)}) · {view.open_positions} open",
             f"{mark(view.exchange_ok)} exchange · {mark(view.store_ok)} database · "
             f"{mark(view.scheduler_ok)} scheduler",
             f"Last tick {when(view.last_tick_at)} · up {int(view.uptime_seconds // 3600)} h "
             f"{int(view.uptime_seconds % 3600 // 60)} min"]
    if view.last_backup_at is not None and view.last_backup_bytes is not None:
        lines.append(f"Last backup {when(view.last_backup_at)} · {view.last_backup_bytes:,} bytes")
    if view.venue_breaker:
        since = f" since {when(view.venue_since)}" if view.venue_since is not None else ""
        up = view.venue_breaker == "closed"
        lines.append(f"{mark(up)} venue breaker <b>{e(view.venue_breaker)}</b>{since}"
                     + ("" if up else " · entries paused"))
    lines += [f"{ERROR_MARK} {e(p)}" for p in view.problems]
    return "\n".join(lines)


def jobs(items: tuple[JobView, ...]) -> str:
    """Return the /jobs list: a mark, the job, its last run and outcome, its next run (UTC)."""
    if not items:
        return "No scheduled jobs: the replay demo drives the engine candle by candle."
    lines = ["<b>Jobs</b>"]
    for job in items:
        if job.running_since is not None:
            mark, last = "⏳", f"running since {when(job.running_since)}"
        elif job.last_run_at is None or job.duration_seconds is None:
            mark, last = "·", "not run yet"
        else:
            mark = "✅" if job.error is None else "❌"
            last = f"last {when(job.last_run_at)} ({fmt.number(job.duration_seconds)} s)"
            if job.error is not None:
                last += f" failed: {e(job.error)}"
        detail = f" · {e(job.detail)}" if job.detail else ""
        lines.append(f"{mark} <code>{e(job.id)}</code> · {last} · next {when(job.next_run_at)}{detail}")
    return "\n".join(lines)


def news(items: tuple[NewsView, ...], asset: str | None = None) -> str:
    """Return the /news list: linked headlines with their source, time and the assets they mention."""
    about = f" about {e(asset)}" if asset else ""
    if not items:
        return f"No headlines{about} yet: the feeds are read every few minutes."
    lines = [f"<b>News</b>{about}"]
    for item in items:
        tags = f" · {e(', '.join(item.assets))}" if item.assets else ""
        lines.append(f'• <a href="{e(item.link)}">{e(item.title)}</a>\n  {e(item.source)} · '
                     f"{when(item.published_at)}{tags}")
    return "\n".join(lines)


def locks(items: tuple[LockView, ...]) -> str:
    """Return the /locks list."""
    if not items:
        return "No pairs are locked."
    return "<b>Locked pairs</b>\n" + "\n".join(
        f"{e(x.pair)} until {when(x.until)}: {e(x.reason)}" for x in items)


def strategies(items: tuple[StrategyView, ...]) -> str:
    """Return the /strategies list."""
    if not items:
        return "No strategies are registered."
    blocks = []
    for s in items:
        head = f"{'▶️' if s.enabled else '⏸'} <b>{e(s.name)}</b> {e(s.timeframe)} {e(', '.join(s.pairs))}"
        params = ", ".join(f"{e(p.key)}={e(p.value)}" for p in s.params)
        blocks.append(f"{head}\n{e(s.description)}" + (f"\n<code>{params}</code>" if params else ""))
    return "\n\n".join(blocks)


def settings(view: SettingsView) -> str:
    """Return the /settings view."""
    lines = [f"<code>{e(p.key)}</code> = <b>{e(p.value)}</b>" + (f" ({e(p.bounds)})" if p.bounds else "")
             for p in view.params]
    return "<b>Settings</b>\n" + "\n".join(lines) + "\n\nChange one with /settings KEY VALUE"


def setting_change(change: SettingChange) -> str:
    """Return the confirmation question for a parameter change."""
    return f"Change <code>{e(change.key)}</code> from <b>{e(change.old)}</b> to <b>{e(change.new)}</b>?"


def close_question(preview: ClosePreview, quote: str = "") -> str:
    """Return the confirmation question for /close."""
    what = "all open positions" if preview.target is None else f"position <code>{e(preview.target)}</code>"
    lines = [f"{e(p.pair)} {qty(p.amount)} PnL {signed(p.pnl, quote)}" for p in preview.positions]
    return f"Close {what} at market?\n" + "\n".join(lines)


def buy_question(p: BuyPreview) -> str:
    """Return the confirmation question for /buy."""
    question = (f"Buy <b>{qty(p.amount)} {e(p.pair)}</b> at about {price(p.price)} "
                f"(≈ {money(p.cost, p.quote)})?\nStop {price(p.stop_price)} · TP {price(p.take_profit)}")
    if p.capped_by is not None:
        asked = f"you asked for {qty(p.requested)}; " if p.requested is not None else ""
        question += f"\n⚠️ {asked}capped by {e(p.capped_by)}"
    return question


def halt_question(flatten: bool) -> str:
    """Return the confirmation question for /halt."""
    extra = " and <b>close every open position</b> at market" if flatten else ""
    return f"Halt all trading{extra}? Trading stays halted until /resume."


def result(outcome: ControlResult) -> str:
    """Return a control action's outcome."""
    if outcome.ok:
        return f"✅ {e(outcome.message)}"
    reason = f" ({e(outcome.refused_reason)})" if outcome.refused_reason else ""
    return f"{ERROR_MARK} {e(outcome.message)}{reason}"


def backtest(r: BacktestReport) -> str:
    """Return a backtest summary."""
    q = r.request
    return "\n".join([
        f"<b>Backtest {e(q.strategy)}</b> {e(q.pair)} {e(q.timeframe)}, "
        f"{r.start:%Y-%m-%d} → {r.end:%Y-%m-%d}",
        f"Return {pct(r.total_return)} · Max drawdown {pct(r.max_drawdown, sign=False)}",
        f"Trades {r.trades} · Win rate {pct(r.win_rate, sign=False)} · Profit factor "
        f"{ratio(r.profit_factor, why='no losing trades' if r.trades else 'no trades')} · "
        f"Sharpe {ratio(r.sharpe, why='under 2 days')}",
        f"Final equity {money(r.final_equity, r.quote)}",
        *_stops(r),
    ])


def _stops(r: BacktestReport) -> list[str]:
    """Return why the run stopped trading: halts, daily-loss days, refused entries by rule (top 3)."""
    lines = [f"⛔ Halted {h.at:%Y-%m-%d %H:%M} UTC: {e(h.reason)}" for h in r.halts]
    if r.daily_loss_days:
        lines.append(f"Daily loss limit hit on {len(r.daily_loss_days)} day(s), first "
                     f"{r.daily_loss_days[0]:%Y-%m-%d}")
    if r.refusals:
        total = sum(x.count for x in r.refusals)
        parts = [f"{e(x.reason)} {x.count} from {x.first:%Y-%m-%d %H:%M}" for x in r.refusals[:3]]
        more = f", {len(r.refusals) - 3} more rule(s)" if len(r.refusals) > 3 else ""
        lines.append(f"Refused entry signals {total}: {', '.join(parts)}{more}")
    return lines


def backtest_runs(runs: tuple[BacktestRunView, ...]) -> str:
    """Return the stored backtest runs, newest first, for comparison."""
    if not runs:
        return "No stored backtests yet: run /backtest STRATEGY PAIR."
    lines = ["<b>Stored backtests</b> (newest first)"]
    for r in runs:
        trades = "-" if r.trades is None else str(r.trades)
        changed = ", ".join(f"{k}={v}" for k, v in r.changed) or "defaults"
        lines += [
            f"<b>#{r.id}</b> {e(r.strategy)} {e(','.join(r.pairs))} {e(r.timeframe)} · "
            f"{r.start:%Y-%m-%d} → {r.end:%Y-%m-%d}",
            f"  {_dot_ratio(r.total_return)} return {percent(r.total_return, digits=1)} · "
            f"DD {percent(r.max_drawdown, sign=False, digits=1)} · {trades} trades · "
            f"win {percent(r.win_rate, sign=False, digits=1)} · "
            f"Sharpe {ratio(r.sharpe)}",
            f"  <i>{e(changed[:MAX_VALUE])}</i>",
        ]
    return "\n".join(lines)


def _dot_ratio(value: float | None) -> str:
    return "⚪" if value is None else _dot(value)


def version(v: VersionView) -> str:
    """Return the /version message."""
    return (f"<b>tradebot {e(v.version)}</b> ({e(v.mode.label)}, {e(v.exchange)})\n"
            f"Python {e(v.python)} · python-telegram-bot {e(v.telegram_library)}")


def config(view: ConfigView) -> str:
    """Return the masked /config listing."""
    return "<b>Configuration</b>\n" + "\n".join(
        f"<code>{e(k[:MAX_VALUE])}</code> = {e(v[:MAX_VALUE])}" for k, v in view.lines)


def split(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split ``text`` into messages under ``limit`` characters, at blank lines, then lines.

    Only used on text whose tags never span a line break (every formatter here keeps tags on one line;
    <pre> blocks are split by ``split_pre``).
    """
    parts: list[str] = []
    current = ""
    for raw in text.split("\n"):
        line = raw
        while len(line) > limit:  # one over-long line: hard-cut it (never inside our formatters' tags)
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            candidate = line
        current = candidate
    if current.strip():
        parts.append(current)
    return [p for p in parts if p.strip()] or [text[:limit]]


def split_pre(lines: tuple[str, ...], limit: int = MAX_MESSAGE) -> list[str]:
    """Return escaped lines wrapped in <pre> blocks, each message under ``limit``."""
    overhead = len("<pre></pre>")
    # Cut before escaping so an entity is never split; escaping grows a line at most 5-fold.
    escaped = [e(line[:MAX_LOG_LINE]) for line in lines]
    return [f"<pre>{chunk}</pre>" for chunk in split("\n".join(escaped), limit - overhead)]
