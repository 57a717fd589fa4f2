"""Bot and program commands: /start /help /whoami /version /config /reload /logs, unknown commands."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType

from handlers import args, formatting, totp
from handlers.context import BotContext
from handlers.formatting import e
from handlers.replies import send


async def start(update: Update, context: BotContext) -> None:
    """Greet the user with their role and point at /help."""
    args.no_args(context.args or [])
    actor = context.who
    await send(update, f"Hello {e(actor.name or 'there')}. You are <b>{e(actor.role.value)}</b> here.\n"
                       "Send /status for open positions or /help for every command.")


async def help_command(update: Update, context: BotContext) -> None:
    """List the commands the user's role may use, with their usage."""
    args.no_args(context.args or [])
    role = context.who.role
    lines = [f"{e(c.usage or '/' + c.name)} — {e(c.help)}" for c in context.bot_data.commands
             if role.can(c.role)]
    await send(update, "<b>Commands</b>\n" + "\n".join(lines))


async def whoami(update: Update, context: BotContext) -> None:
    """Tell anyone their chat id, user id and role (strangers learn what to put in the allow-list)."""
    args.no_args(context.args or [])
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None
    known = context.bot_data.access.role_for(chat.id, chat.type, user.id if user else None)
    role = known.value if known else "not on the allow-list"
    await send(update, f"Chat id <code>{chat.id}</code> · user id <code>{user.id if user else '-'}</code>\n"
                       f"Role: {e(role)}")


async def version(update: Update, context: BotContext) -> None:
    """Show the program version."""
    args.no_args(context.args or [])
    await send(update, formatting.version(await context.services.system.version()))


async def config(update: Update, context: BotContext) -> None:
    """Show the effective configuration with secrets masked."""
    args.no_args(context.args or [])
    await send(update, formatting.config(await context.services.system.config()))


async def reload(update: Update, context: BotContext) -> None:
    """Reload strategies and parameters."""
    args.no_args(context.args or [])
    await send(update, formatting.result(await context.services.control.reload(context.who)))


async def logs(update: Update, context: BotContext) -> None:
    """Show the last log lines (default 20)."""
    lines = args.optional_int(context.args or [], "Lines", 1, 200, 20)
    assert lines is not None
    view = await context.services.system.logs(lines)
    await send(update, formatting.split_pre(view.lines) if view.lines else "No log lines.")


async def unknown_command(update: Update, context: BotContext) -> None:
    """Answer a command that is not in the table, unless it is meant for another bot.

    In a group only commands addressed to this bot (/cmd@thisbot) are answered: other bots' commands
    are none of our business.
    """
    message, chat = update.effective_message, update.effective_chat
    assert message is not None and chat is not None and message.text is not None
    target = message.text.split(maxsplit=1)[0].partition("@")[2].lower()
    if target and target != (context.bot.username or "").lower():
        return
    if not target and chat.type != ChatType.PRIVATE:
        return
    await send(update, formatting.error("Unknown command. Send /help for the list."))


async def plain_text(update: Update, context: BotContext) -> None:
    """Answer plain text in a private chat: a TOTP code for a waiting admin action, else commands only."""
    if await totp.code_reply(update, context):
        return
    await send(update, "I only understand commands. Send /help for the list.")
