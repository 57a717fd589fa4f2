"""History commands: /profit /performance /daily /weekly /monthly /trades (paged) /tax /drift."""

from __future__ import annotations

from telegram import Update

from handlers import args, formatting, keyboards
from handlers.context import BotContext
from handlers.replies import edit, send
from trader.core.errors import ArgError
from trader.services.drift_text import drift_report
from trader.services.dto import PeriodKind, TaxMethod


async def profit(update: Update, context: BotContext) -> None:
    """Show the profit summary, all time or over the last N days."""
    days = args.optional_int(context.args or [], "Days", 1, args.MAX_DAYS, None)
    await send(update, formatting.profit(await context.services.reports.profit(days)))


async def performance(update: Update, context: BotContext) -> None:
    """Show results per pair, or per strategy with ``/performance strategy``."""
    by = args.group_by(context.args or [])
    await send(update, formatting.performance(await context.services.reports.performance(by), by))


async def _periods(update: Update, context: BotContext, kind: PeriodKind, default: int, most: int) -> None:
    count = args.optional_int(context.args or [], "Count", 1, most, default)
    assert count is not None
    await send(update, formatting.periods(await context.services.reports.periods(kind, count)))


async def daily(update: Update, context: BotContext) -> None:
    """Show profit per day."""
    await _periods(update, context, PeriodKind.DAY, 7, 90)


async def weekly(update: Update, context: BotContext) -> None:
    """Show profit per week."""
    await _periods(update, context, PeriodKind.WEEK, 8, 52)


async def monthly(update: Update, context: BotContext) -> None:
    """Show profit per month."""
    await _periods(update, context, PeriodKind.MONTH, 6, 60)


async def trades(update: Update, context: BotContext) -> None:
    """Show the first page of closed trades with paging buttons."""
    query = args.trades(context.args or [])
    page = await context.services.reports.trades(query)
    await send(update, formatting.trade_page(page),
               keyboards.pager(page, context.now + context.bot_data.page_ttl))


async def trades_page(update: Update, context: BotContext) -> None:
    """Replace the trades message with the page its button points to."""
    choice = await keyboards.take(update, context, keyboards.PageChoice)
    if choice is None:
        return
    page = await context.services.reports.trades(choice.query)
    markup = keyboards.pager(page, context.now + context.bot_data.page_ttl)
    await edit(update, formatting.trade_page(page), markup)


async def tax(update: Update, context: BotContext) -> None:
    """Send the capital-gains report for a financial year as a CSV document, parcels matched by the
    method given (FIFO by default)."""
    cli = context.args or []
    if not cli:
        raise ArgError("Which financial year?")
    args.at_most(cli, 2)
    year = args.year(cli[0])
    method = args.tax_method(cli[1]) if len(cli) > 1 else TaxMethod.FIFO
    document = await context.services.reports.tax_report(year, method)
    message = update.effective_message
    assert message is not None
    await message.reply_document(document.content, filename=document.filename,
                                 caption=formatting.caption(document.caption), parse_mode="HTML")


async def drift(update: Update, context: BotContext) -> None:
    """Compare the account's trades with a backtest over the same period (optionally since a date)."""
    since = args.since_date(context.args or [])
    view = await context.services.drift.report(since)
    await send(update, formatting.split_pre(tuple(drift_report(view).split("\n"))))
