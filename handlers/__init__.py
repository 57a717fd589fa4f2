"""Telegram handlers: thin functions that parse arguments, call a service and format the answer.

``register(app, services, access)`` wires everything from the one command table in
``handlers.commands``; ``bot_commands`` gives the per-role lists for ``setMyCommands``.
"""

from __future__ import annotations

import logging

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    MenuButtonWebApp,
    Update,
    WebAppInfo,
)
from telegram.error import BadRequest
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    InvalidCallbackData,
    MessageHandler,
    TypeHandler,
)
from telegram.ext import filters as f

from handlers import admin, auth, errors, keyboards
from handlers.access import AccessList
from handlers.commands import BUTTONS, COMMANDS, visible_to
from handlers.context import BotApplication, BotContext, BotData
from handlers.dashboard import app_url
from handlers.totp import TotpGate
from trader.services.api import Services
from trader.services.dto import Role

logger = logging.getLogger(__name__)

__all__ = ["BotContext", "BotData", "publish_commands", "register"]


def register(app: BotApplication, services: Services, access: AccessList,
             dashboard_url: str | None = None, totp_secret: str | None = None) -> None:
    """Add the access check, every command and button handler, and the error handler to ``app``.

    ``dashboard_url`` (``web.public_url``) is where /dashboard and the menu button open the Mini App.
    ``totp_secret`` (``telegram.admin_totp_secret``) makes confirmed admin actions ask for a TOTP code.
    """
    data = app.bot_data
    data.services, data.access, data.commands = services, access, COMMANDS
    data.dashboard_url = dashboard_url
    data.totp = TotpGate(totp_secret) if totp_secret else None
    app.add_handler(TypeHandler(Update, auth.check_access), group=-1)
    for command in COMMANDS:  # edits are ignored so an edited "/pause" does not act twice
        app.add_handler(CommandHandler(command.name, command.callback, filters=f.UpdateType.MESSAGE,
                                       block=not command.slow))
    for button in BUTTONS:
        app.add_handler(CallbackQueryHandler(button.callback, pattern=button.kind))
    app.add_handler(CallbackQueryHandler(keyboards.stale_button, pattern=InvalidCallbackData))
    app.add_handler(MessageHandler(f.UpdateType.MESSAGE & f.COMMAND, admin.unknown_command))
    app.add_handler(MessageHandler(f.UpdateType.MESSAGE & f.ChatType.PRIVATE & f.TEXT & ~f.COMMAND,
                                   admin.plain_text))
    app.add_error_handler(errors.on_error)


async def publish_commands(app: BotApplication) -> None:
    """Set the command menu: public commands for everyone, each allow-listed private chat its role's."""
    public = [BotCommand(c.name, c.help) for c in COMMANDS if c.public or c.name in ("start", "help")]
    await app.bot.set_my_commands(public, scope=BotCommandScopeDefault())
    for chat_id, role in app.bot_data.access.ids().items():
        if chat_id <= 0:  # group ids are negative; groups keep the default menu
            continue
        try:
            await app.bot.set_my_commands(_menu(role), scope=BotCommandScopeChat(chat_id))
            if app.bot_data.dashboard_url:  # the chat's menu button opens the dashboard Mini App
                button = MenuButtonWebApp("Dashboard", WebAppInfo(app_url(app.bot_data.dashboard_url)))
                await app.bot.set_chat_menu_button(chat_id=chat_id, menu_button=button)
        except BadRequest as exc:  # the user never opened a chat with the bot ("chat not found")
            logger.warning("no command menu for chat %s: %s", chat_id, exc.message)


def _menu(role: Role) -> list[BotCommand]:
    return [BotCommand(c.name, c.help) for c in visible_to(role)]
