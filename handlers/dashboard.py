"""/dashboard: open the web dashboard inside Telegram as a Mini App (a ``web_app`` button).

The page signs in with the Mini App's init data, which the server checks against the bot token and
the same allow-list and roles as the chat. Telegram opens Mini Apps from https URLs only, so the
service's ``web.public_url`` (behind a TLS reverse proxy) must be set.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update, WebAppInfo

from handlers import args
from handlers.context import BotContext
from handlers.replies import send

NOT_SET = ("The dashboard is not published: set <code>TRADER_WEB__PUBLIC_URL</code> to the https address "
           "of the service (behind a TLS reverse proxy) and restart. See docs/web.md.")


def app_url(public_url: str) -> str:
    """Return the dashboard's address under ``public_url``."""
    return public_url.rstrip("/") + "/app/"


async def dashboard(update: Update, context: BotContext) -> None:
    """Answer with a button that opens the dashboard as a Mini App."""
    args.no_args(context.args or [])
    url = context.bot_data.dashboard_url
    if not url:
        await send(update, NOT_SET)
        return
    button = InlineKeyboardButton("📊 Open dashboard", web_app=WebAppInfo(app_url(url)))
    await send(update, "The dashboard opens inside Telegram:", InlineKeyboardMarkup([[button]]))
