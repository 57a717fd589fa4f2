"""Send and edit HTML replies; long text is split under Telegram's 4096-character limit."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from handlers.formatting import split


async def send(update: Update, text: str | list[str], markup: InlineKeyboardMarkup | None = None) -> None:
    """Reply with HTML ``text`` (or pre-split parts); the keyboard goes on the last part."""
    message = update.effective_message
    assert message is not None  # command handlers always have a message
    parts = text if isinstance(text, list) else split(text)
    for i, part in enumerate(parts):
        await message.reply_text(part, parse_mode=ParseMode.HTML,
                                 reply_markup=markup if i == len(parts) - 1 else None)


async def edit(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the pressed button's message with ``text`` (first part only) and ``markup``."""
    query = update.callback_query
    assert query is not None
    await query.edit_message_text(split(text)[0], parse_mode=ParseMode.HTML, reply_markup=markup)
