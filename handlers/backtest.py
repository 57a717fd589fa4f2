"""/backtest: run a backtest through the backtest service (off the event loop) and send the report."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatAction

from handlers import args, formatting
from handlers.context import BotContext
from handlers.replies import send

MAX_CAPTION = 1024


async def backtest(update: Update, context: BotContext) -> None:
    """Backtest a strategy on a pair and reply with the summary, the equity chart and the trades chart."""
    request = args.backtest(context.args or [])
    message = update.effective_message
    assert message is not None
    await message.reply_chat_action(ChatAction.TYPING)
    report = await context.services.backtests.run(request)
    text = formatting.backtest(report)
    if report.chart is None or len(text) > MAX_CAPTION:
        await send(update, text)
    if report.chart is not None:
        caption = text if len(text) <= MAX_CAPTION else None
        await message.reply_photo(report.chart.png, caption=caption, parse_mode="HTML")
    if report.trades_chart is not None:
        await message.reply_photo(report.trades_chart.png, caption=report.trades_chart.caption)


async def backtests(update: Update, context: BotContext) -> None:
    """List the newest stored backtest runs (default 5) with their KPIs and changed parameters."""
    count = args.optional_int(context.args or [], "Runs", 1, 20, 5)
    assert count is not None
    runs = await context.services.backtests.recent(count)
    await send(update, formatting.backtest_runs(runs))
