"""Group -1 access check: allow-list and roles before any handler runs.

Strangers get one polite refusal and an audit entry, rate-limited by ``StrangerGate``; everything else
they send is dropped. /whoami answers anyone (rate-limited the same way) so a new user can find the id
to put in the allow-list. A known user lacking the role gets told which role is needed.
"""

from __future__ import annotations

import html
import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from handlers.commands import Command, button_for, command_for
from handlers.context import BotContext
from trader.services.dto import Actor, Role

logger = logging.getLogger(__name__)

REFUSAL = ("Sorry, this is a private trading bot and you are not on its allow-list.\n"
           "Your chat id is <code>{chat_id}</code>; the owner can add it if you should have access.")


async def check_access(update: Update, context: BotContext) -> None:
    """Let allow-listed users through with their role; stop everything else here."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None:  # polls, channel-less updates: nothing we serve
        raise ApplicationHandlerStop
    role = context.bot_data.access.role_for(chat.id, chat.type, user.id if user else None)
    command = _command_of(update)
    if role is None:
        if command is not None and command.public:
            context.actor = Actor(user.id if user else chat.id, chat.id, Role.VIEWER, _name(update))
            if context.bot_data.gate.admit(chat.id, context.now):
                return  # /whoami for a stranger, within the rate limit
            raise ApplicationHandlerStop
        await _refuse_stranger(update, context, command)
        raise ApplicationHandlerStop
    context.actor = Actor(user.id if user else chat.id, chat.id, role, _name(update))
    needed = _needed_role(update, command)
    if needed is not None and not role.can(needed):
        await _refuse_role(update, context, needed)
        raise ApplicationHandlerStop
    if command is not None and command.role is not Role.VIEWER and update.message is not None:
        # Who asked for what is kept for every command that can change something or shows secrets.
        await context.services.audit.record(context.who.label, "telegram.command",
                                            (update.message.text or "")[:200], "received")


def _command_of(update: Update) -> Command | None:
    message = update.message
    if message is None or not message.text or not message.entities:
        return None
    first = message.entities[0]
    if first.type != "bot_command" or first.offset != 0:
        return None
    return command_for(message.parse_entity(first)[1:])


def _needed_role(update: Update, command: Command | None) -> Role | None:
    if command is not None:
        return command.role
    query = update.callback_query
    if query is not None:
        button = button_for(query.data)
        if button is not None:
            found = command_for(button.command)
            return found.role if found else Role.ADMIN
    return None


def _name(update: Update) -> str:
    user = update.effective_user
    return (user.username or user.full_name) if user else ""


async def _refuse_stranger(update: Update, context: BotContext, command: Command | None) -> None:
    chat = update.effective_chat
    assert chat is not None
    if not context.bot_data.gate.admit(chat.id, context.now):
        return
    user = update.effective_user
    dropped = context.bot_data.gate.take_dropped()
    detail = f"command={command.name if command else '-'} name={_name(update)[:64]!r}"
    if dropped:
        detail += f" (+{dropped} earlier refusals not logged)"
    logger.warning("refused stranger chat=%s user=%s %s", chat.id, user.id if user else None, detail)
    actor = f"telegram:{user.id if user else chat.id}"
    await context.services.audit.record(actor, "telegram.refused", f"chat={chat.id} {detail}", "refused")
    text = REFUSAL.format(chat_id=chat.id)
    if update.callback_query is not None:
        await update.callback_query.answer("Not allowed.")
    elif update.effective_message is not None:
        await update.effective_message.reply_html(text)


async def _refuse_role(update: Update, context: BotContext, needed: Role) -> None:
    actor = context.who
    await context.services.audit.record(actor.label, "telegram.role_refused",
                                        f"needs {needed.value}, has {actor.role.value}", "refused")
    text = f"This needs the <b>{html.escape(needed.value)}</b> role; you are {html.escape(actor.role.value)}."
    if update.callback_query is not None:
        await update.callback_query.answer(f"Needs the {needed.value} role.", show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_html(text)
