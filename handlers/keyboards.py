"""Inline keyboards: callback data as small frozen dataclasses (PTB arbitrary callback data) with expiry.

A button is honoured only before ``expires_at`` (the context's injected monotonic clock) and, for
confirmations, only when pressed by the user who asked. Once pressed, the keyboard's data is dropped
from PTB's cache, so a second press of any of its buttons becomes ``InvalidCallbackData`` (stale).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.context import BotContext
from trader.services.dto import BuyPreview, SettingChange, TradePage, TradeQuery

STALE = "This button has expired. Send the command again."


@dataclass(frozen=True, slots=True)
class HaltChoice:
    """Confirm /halt."""

    flatten: bool
    user_id: int
    expires_at: float


@dataclass(frozen=True, slots=True)
class CloseChoice:
    """Confirm /close of one position (``target``) or all (None)."""

    target: str | None
    user_id: int
    expires_at: float


@dataclass(frozen=True, slots=True)
class BuyChoice:
    """Confirm /buy of a previewed entry."""

    preview: BuyPreview
    user_id: int
    expires_at: float


@dataclass(frozen=True, slots=True)
class SettingChoice:
    """Confirm a /settings change."""

    change: SettingChange
    user_id: int
    expires_at: float


@dataclass(frozen=True, slots=True)
class CancelChoice:
    """Cancel a pending confirmation."""

    user_id: int
    expires_at: float


@dataclass(frozen=True, slots=True)
class PageChoice:
    """Show another page of /trades."""

    query: TradeQuery
    expires_at: float


Choice = HaltChoice | CloseChoice | BuyChoice | SettingChoice
T = TypeVar("T", HaltChoice, CloseChoice, BuyChoice, SettingChoice, CancelChoice, PageChoice)


def confirm(choice: Choice) -> InlineKeyboardMarkup:
    """Return a Confirm / Cancel keyboard for ``choice``."""
    cancel = CancelChoice(choice.user_id, choice.expires_at)
    return InlineKeyboardMarkup([[InlineKeyboardButton("✅ Confirm", callback_data=choice),
                                  InlineKeyboardButton("✖️ Cancel", callback_data=cancel)]])


def pager(page: TradePage, expires_at: float) -> InlineKeyboardMarkup | None:
    """Return Previous / Next buttons for a trade page, or None when it is the only page."""
    q = page.query
    row = []
    if page.has_previous:
        earlier = TradeQuery(q.pair, q.outcome, q.page - 1, q.page_size)
        row.append(InlineKeyboardButton("◀️ Previous", callback_data=PageChoice(earlier, expires_at)))
    if page.has_next:
        later = TradeQuery(q.pair, q.outcome, q.page + 1, q.page_size)
        row.append(InlineKeyboardButton("Next ▶️", callback_data=PageChoice(later, expires_at)))
    return InlineKeyboardMarkup([row]) if row else None


async def take(update: Update, context: BotContext, kind: type[T], *, keep: bool = False) -> T | None:
    """Answer the pressed button and return its data, or None after telling the user it is stale.

    Unless ``keep``, the keyboard's data is dropped so the press cannot be repeated.
    """
    query = update.callback_query
    assert query is not None  # only registered as a CallbackQueryHandler
    data = query.data
    if not isinstance(data, kind):
        await _stale(query)
        return None
    if context.now >= data.expires_at:
        context.drop_callback_data(query)
        await _stale(query)
        return None
    user_id = getattr(data, "user_id", None)
    if user_id is not None and query.from_user.id != user_id:
        await query.answer("Only the user who asked can confirm this.", show_alert=True)
        return None
    await query.answer()
    if not keep:
        context.drop_callback_data(query)
    return data


async def stale_button(update: Update, context: BotContext) -> None:
    """Tell the user a button is no longer valid (unknown, already used or expired)."""
    query = update.callback_query
    assert query is not None
    await _stale(query)


async def _stale(query: CallbackQuery) -> None:
    await query.answer(STALE, show_alert=True)
    if query.message is not None and getattr(query.message, "reply_markup", None):
        await query.edit_message_reply_markup(reply_markup=None)
