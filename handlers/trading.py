"""Trading commands: /pause /resume /unlock act at once; /halt /close /buy ask for confirmation first."""

from __future__ import annotations

from telegram import Update

from handlers import args, formatting, keyboards
from handlers.context import BotContext
from handlers.pair_text import close_lines
from handlers.replies import edit, send
from handlers.totp import run_confirmed


async def pause(update: Update, context: BotContext) -> None:
    """Stop opening positions; open ones stay protected."""
    args.no_args(context.args or [])
    await send(update, formatting.result(await context.services.control.pause(context.who)))


async def resume(update: Update, context: BotContext) -> None:
    """Allow new positions again."""
    args.no_args(context.args or [])
    await send(update, formatting.result(await context.services.control.resume(context.who)))


async def unlock(update: Update, context: BotContext) -> None:
    """Remove the entry lock on a pair."""
    pair = args.one_pair(context.args or [])
    await send(update, formatting.result(await context.services.control.unlock(pair, context.who)))


async def halt(update: Update, context: BotContext) -> None:
    """Ask to confirm halting trading (optionally closing everything)."""
    flatten = args.halt_flatten(context.args or [])
    choice = keyboards.HaltChoice(flatten, context.who.user_id, context.now + context.bot_data.button_ttl)
    await send(update, formatting.halt_question(flatten), keyboards.confirm(choice))


async def confirm_halt(update: Update, context: BotContext) -> None:
    """Halt after the confirmation button was pressed."""
    choice = await keyboards.take(update, context, keyboards.HaltChoice)
    if choice is not None:
        async def act() -> str:
            return formatting.result(await context.services.control.halt(context.who, flatten=choice.flatten))
        await run_confirmed(update, context, act)


async def close(update: Update, context: BotContext) -> None:
    """Ask to confirm closing one position or all."""
    target = args.position_target(context.args or [])
    preview = await context.services.control.preview_close(target)
    if not preview.positions and not preview.groups:
        await send(update, "No open positions to close.")
        return
    choice = keyboards.CloseChoice(target, context.who.user_id, context.now + context.bot_data.button_ttl)
    question = formatting.close_question(preview) + close_lines(preview.groups)
    await send(update, question, keyboards.confirm(choice))


async def confirm_close(update: Update, context: BotContext) -> None:
    """Close after the confirmation button was pressed."""
    choice = await keyboards.take(update, context, keyboards.CloseChoice)
    if choice is not None:
        async def act() -> str:
            return formatting.result(await context.services.control.close(choice.target, context.who))
        await run_confirmed(update, context, act)


async def buy(update: Update, context: BotContext) -> None:
    """Ask to confirm a sized and rounded manual entry."""
    request = args.buy(context.args or [])
    preview = await context.services.control.preview_buy(request.pair, request.amount)
    choice = keyboards.BuyChoice(preview, context.who.user_id, context.now + context.bot_data.button_ttl)
    await send(update, formatting.buy_question(preview), keyboards.confirm(choice))


async def confirm_buy(update: Update, context: BotContext) -> None:
    """Open the position after the confirmation button was pressed."""
    choice = await keyboards.take(update, context, keyboards.BuyChoice)
    if choice is not None:
        async def act() -> str:
            return formatting.result(await context.services.control.buy(choice.preview, context.who))
        await run_confirmed(update, context, act)


async def cancel(update: Update, context: BotContext) -> None:
    """Drop a pending confirmation."""
    if await keyboards.take(update, context, keyboards.CancelChoice) is not None:
        await edit(update, "Cancelled; nothing changed.")
