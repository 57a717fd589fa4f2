"""/settings: view parameters, or change one after validation and an inline confirmation."""

from __future__ import annotations

from telegram import Update

from handlers import args, formatting, keyboards
from handlers.context import BotContext
from handlers.replies import send
from handlers.totp import run_confirmed


async def settings(update: Update, context: BotContext) -> None:
    """Show the parameters, or validate a change and ask to confirm it."""
    cli = context.args or []
    if not cli:
        await send(update, formatting.settings(await context.services.queries.settings()))
        return
    key, value = args.setting(cli)
    change = await context.services.control.preview_setting(key, value)
    choice = keyboards.SettingChoice(change, context.who.user_id, context.now + context.bot_data.button_ttl)
    await send(update, formatting.setting_change(change), keyboards.confirm(choice))


async def confirm_setting(update: Update, context: BotContext) -> None:
    """Apply the change after the confirmation button was pressed."""
    choice = await keyboards.take(update, context, keyboards.SettingChoice)
    if choice is not None:
        async def act() -> str:
            return formatting.result(await context.services.control.apply_setting(choice.change, context.who))
        await run_confirmed(update, context, act)
