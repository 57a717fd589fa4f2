"""TelegramNotifier: deliver alerts to allow-listed chats through PTB's ``Bot``.

Text goes as plain text (no parse mode, so alert text can never break Telegram's HTML parser), split
under the 4096-character limit at line breaks. An image goes as a photo with the text as its caption
when the caption fits 1024 characters, otherwise the photo is followed by the text. Rate limits: give
it the application's bot, built with ``telegram_limits.SharedWaitRateLimiter``: a 429 holds every
send (alerts and replies alike) for its ``retry_after``, and the 429'd message is retried; any error
that still comes out is raised so the alert outbox retries later.
The chats that already received an alert are remembered, so that retry reaches only the others.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Bot

from trader.adapters.notify.render import render_text
from trader.core.domain.alerts import Alert

logger = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_CAPTION = 1024
_REMEMBERED = 1000  # partially delivered alerts kept; older ones are forgotten (at worst a repeat)

_Fingerprint = tuple[str, str, str, str | None, int]


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` characters, preferring line breaks."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    if rest.strip() or not parts:
        parts.append(rest)
    return parts


class TelegramNotifier:
    """Send each alert to every chat in ``chat_ids``, in order."""

    def __init__(self, bot: Bot, chat_ids: Sequence[int]) -> None:
        if not chat_ids:
            raise ValueError("TelegramNotifier needs at least one chat id (telegram.allowed_chats)")
        self._bot = bot
        self._chat_ids = tuple(chat_ids)
        self._delivered: dict[_Fingerprint, set[int]] = {}

    async def send(self, alert: Alert) -> None:
        """Deliver one alert to every chat not yet reached; raises on failure so the outbox can retry."""
        text = render_text(alert) or alert.kind
        key = (alert.kind, alert.text, alert.severity.value, alert.dedupe_key, len(alert.image or b""))
        done = self._delivered.setdefault(key, set())
        for chat_id in self._chat_ids:
            if chat_id in done:
                continue
            await self._send_one(chat_id, text, alert.image)
            done.add(chat_id)
        del self._delivered[key]
        while len(self._delivered) > _REMEMBERED:
            self._delivered.pop(next(iter(self._delivered)))

    async def _send_one(self, chat_id: int, text: str, image: bytes | None) -> None:
        if image is not None:
            caption = text if len(text) <= MAX_CAPTION else None
            await self._bot.send_photo(chat_id, image, caption=caption)
            if caption is not None:
                return
        for part in split_text(text):
            await self._bot.send_message(chat_id, part)
