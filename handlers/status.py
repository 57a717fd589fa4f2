"""Live-state commands: /status /positions /balance /health /jobs /locks /strategies."""

from __future__ import annotations

from telegram import Update

from handlers import args, formatting
from handlers.context import BotContext
from handlers.pair_text import with_groups
from handlers.replies import send


async def status(update: Update, context: BotContext) -> None:
    """Show the trading state and every open position."""
    args.no_args(context.args or [])
    queries = context.services.queries
    await send(update, with_groups(formatting.status(await queries.status()), await queries.pair_groups()))


async def positions(update: Update, context: BotContext) -> None:
    """Show open positions compactly."""
    args.no_args(context.args or [])
    queries = context.services.queries
    text = formatting.positions(await queries.positions())
    await send(update, with_groups(text, await queries.pair_groups()))


async def balance(update: Update, context: BotContext) -> None:
    """Show equity and balances."""
    args.no_args(context.args or [])
    await send(update, formatting.balance(await context.services.queries.balance()))


async def health(update: Update, context: BotContext) -> None:
    """Show whether the exchange, database and scheduler answer."""
    args.no_args(context.args or [])
    await send(update, formatting.health(await context.services.queries.health()))


async def jobs(update: Update, context: BotContext) -> None:
    """Show each scheduled job's last run, duration, outcome and next run."""
    args.no_args(context.args or [])
    await send(update, formatting.jobs(await context.services.queries.jobs()))


async def locks(update: Update, context: BotContext) -> None:
    """Show pairs locked against new entries."""
    args.no_args(context.args or [])
    await send(update, formatting.locks(await context.services.queries.locks()))


async def strategies(update: Update, context: BotContext) -> None:
    """Show registered strategies and their parameters."""
    args.no_args(context.args or [])
    await send(update, formatting.strategies(await context.services.queries.strategies()))
