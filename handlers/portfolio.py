"""/portfolio [BASKET] (a PNG and a table) and /holdings [BASKET]: baskets valued by the portfolio service."""

from __future__ import annotations

from telegram import Update

from handlers import args, formatting
from handlers.context import BotContext
from handlers.replies import send
from trader.services.portfolio_text import holdings_text, valuation_header, valuation_text


async def portfolio(update: Update, context: BotContext) -> None:
    """Value a basket: a chart of value by category and the top movers, then the category table."""
    name = args.optional_basket(context.args or [])
    valuation = await context.services.portfolio.value(name)
    png = await context.services.portfolio.chart(valuation)
    message = update.effective_message
    assert message is not None
    await message.reply_photo(png, caption=formatting.caption("\n".join(valuation_header(valuation))),
                              parse_mode="HTML")
    await send(update, formatting.split_pre(tuple(valuation_text(valuation).split("\n"))))


async def holdings(update: Update, context: BotContext) -> None:
    """List the stored purchases of one basket, or of every basket."""
    name = args.optional_basket(context.args or [])
    found = await context.services.portfolio.holdings(name)
    await send(update, formatting.split_pre(tuple(holdings_text(found).split("\n"))))
