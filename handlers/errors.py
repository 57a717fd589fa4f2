"""The one PTB error handler: our errors become their ``user_message``; anything else is logged.

Tracebacks never reach the chat: an unexpected error gets a generic reply and a log entry with the
traceback, and is counted in ``bot_data.unexpected_errors``.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError

from handlers import formatting
from handlers.commands import command_for
from handlers.context import BotContext
from handlers.replies import send
from trader.core.errors import ArgError, TraderError

logger = logging.getLogger(__name__)

GENERIC = "Something went wrong on our side; it has been logged. Please try again later."


async def on_error(update: object, context: BotContext) -> None:
    """Turn an exception raised by a handler into a reply."""
    error = context.error
    if not isinstance(update, Update) or update.effective_chat is None:
        logger.error("error outside an update: %r", error, exc_info=error)
        return
    if isinstance(error, ArgError):
        text = formatting.error(error.user_message if error.usage else _with_usage(update, str(error)))
    elif isinstance(error, TraderError):
        text = formatting.error(error.user_message)
    elif isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        logger.warning("Telegram network error while handling an update: %s", error)
        return  # replying would hit the same network problem
    elif isinstance(error, Forbidden):
        logger.info("cannot reply in chat %s: %s", update.effective_chat.id, error)
        return  # the user blocked the bot or removed it from the group
    else:
        context.bot_data.unexpected_errors += 1
        logger.error("unexpected error handling update %s", update.update_id, exc_info=error)
        text = formatting.error(GENERIC)
    if update.effective_message is not None:
        await send(update, text)


def _with_usage(update: Update, message: str) -> str:
    text = update.effective_message.text if update.effective_message else None
    name = text.split()[0][1:] if text and text.startswith("/") and text.split() else ""
    command = command_for(name) if name else None
    return f"{message}\nUsage: {command.usage_line}" if command else message
