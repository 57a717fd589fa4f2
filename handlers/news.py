"""/news [ASSET]: the newest crypto headlines from the configured feeds."""

from __future__ import annotations

from telegram import Update

from handlers import args, formatting
from handlers.context import BotContext
from handlers.replies import send


async def news(update: Update, context: BotContext) -> None:
    """Show the newest headlines, or those mentioning one asset."""
    asset = args.optional_asset(context.args or [])
    await send(update, formatting.news(await context.services.news.latest(asset), asset))
