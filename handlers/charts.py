"""Chart commands: /chart /equity send PNG images rendered by the chart service."""

from __future__ import annotations

from telegram import Update

from handlers import args, formatting
from handlers.context import BotContext


async def chart(update: Update, context: BotContext) -> None:
    """Send a candlestick chart for a pair."""
    request = args.chart(context.args or [])
    image = await context.services.charts.candles(request)
    message = update.effective_message
    assert message is not None
    await message.reply_photo(image.png, caption=formatting.caption(image.caption), parse_mode="HTML")


async def equity(update: Update, context: BotContext) -> None:
    """Send the equity curve with its drawdown."""
    args.no_args(context.args or [])
    image = await context.services.charts.equity()
    message = update.effective_message
    assert message is not None
    await message.reply_photo(image.png, caption=formatting.caption(image.caption), parse_mode="HTML")
