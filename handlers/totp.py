"""Second factor for admin actions: after the confirmation button, a current TOTP code (pyotp).

When ``telegram.admin_totp_secret`` is set, a confirmed /halt, /close, /buy or /settings change is not
run at once: the bot asks the user who pressed the button for the 6-digit code of their authenticator
app and runs the action only when the next private message holds a valid code (the current 30-second
step or the one before or after, for clock drift; a code is accepted once). Wrong codes are counted;
``max_failures`` wrong codes within ``window_seconds`` drop the pending action and lock the user out
of TOTP-guarded actions for ``lockout_seconds``.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pyotp
from telegram import Update

from handlers.context import BotContext
from handlers.replies import edit, send

logger = logging.getLogger(__name__)

Action = Callable[[], Awaitable[str]]  # runs the confirmed action and returns the reply text
_CODE = re.compile(r"^\s*(\d{6})\s*$")

ASK = "🔐 Send the current 6-digit code from your authenticator app to confirm."
LOCKED = "🔒 Too many wrong codes: admin actions are locked for {minutes} minute(s)."
WRONG = "❌ Wrong code ({left} attempt(s) left). Send the current 6-digit code."
EXPIRED = "The confirmation expired. Send the command again."


@dataclass
class _Pending:
    action: Action
    expires_at: float


@dataclass
class TotpGate:
    """Holds each user's action waiting for a code, counts wrong codes and locks out after too many."""

    secret: str
    max_failures: int = 3
    window_seconds: float = 300.0
    lockout_seconds: float = 900.0
    wrong_codes: int = 0  # every wrong code since start, for /health and tests
    _pending: dict[int, _Pending] = field(default_factory=dict)
    _failures: dict[int, list[float]] = field(default_factory=dict)
    _locked_until: dict[int, float] = field(default_factory=dict)
    _used: dict[int, int] = field(default_factory=dict)  # user -> last accepted time step

    def __post_init__(self) -> None:
        self._totp = pyotp.TOTP(self.secret)

    def locked(self, user_id: int, now: float) -> float:
        """Return the seconds left of ``user_id``'s lockout (0 when not locked out)."""
        return max(0.0, self._locked_until.get(user_id, 0.0) - now)

    def ask(self, user_id: int, action: Action, expires_at: float) -> None:
        """Park ``action`` until ``user_id`` sends a valid code (a newer request replaces an older one)."""
        self._pending[user_id] = _Pending(action, expires_at)

    def waiting(self, user_id: int) -> bool:
        """Return True when ``user_id`` has an action waiting for a code."""
        return user_id in self._pending

    async def answer(self, user_id: int, text: str, now: float, *, unix_time: float | None = None) -> str:
        """Check ``text`` as the code for the pending action of ``user_id``; run it when valid; reply."""
        pending = self._pending.get(user_id)
        if pending is None:
            return EXPIRED
        left = self.locked(user_id, now)
        if left:
            self._pending.pop(user_id, None)
            return LOCKED.format(minutes=max(1, round(left / 60)))
        if now >= pending.expires_at:
            self._pending.pop(user_id, None)
            return EXPIRED
        if self._valid(user_id, text, unix_time):
            self._pending.pop(user_id, None)
            self._failures.pop(user_id, None)
            return await pending.action()
        return self._wrong(user_id, now)

    def _valid(self, user_id: int, text: str, unix_time: float | None) -> bool:
        match = _CODE.match(text)
        if match is None:
            return False
        code = match.group(1)
        at = unix_time if unix_time is not None else time.time()
        for drift in (0, -1, 1):  # the current step first, then its neighbours (clock drift)
            step = int(at // self._totp.interval) + drift
            expected = self._totp.at(step * self._totp.interval)
            if step > self._used.get(user_id, -1) and hmac.compare_digest(code, expected):
                self._used[user_id] = step  # a code is good once: a replay of it is wrong
                return True
        return False

    def _wrong(self, user_id: int, now: float) -> str:
        self.wrong_codes += 1
        recent = [t for t in self._failures.get(user_id, []) if now - t < self.window_seconds] + [now]
        self._failures[user_id] = recent
        logger.warning("wrong TOTP code from user %d (%d in the last %.0f s)", user_id, len(recent),
                       self.window_seconds)
        if len(recent) >= self.max_failures:
            self._pending.pop(user_id, None)
            self._failures.pop(user_id, None)
            self._locked_until[user_id] = now + self.lockout_seconds
            logger.warning("user %d locked out of admin actions for %.0f s after %d wrong codes", user_id,
                           self.lockout_seconds, len(recent))
            return LOCKED.format(minutes=max(1, round(self.lockout_seconds / 60)))
        return WRONG.format(left=self.max_failures - len(recent))


async def run_confirmed(update: Update, context: BotContext, action: Action) -> None:
    """Run a confirmed admin action now, or (TOTP configured) ask for a code and run it on a valid one."""
    gate = context.bot_data.totp
    if gate is None:
        await edit(update, await action())
        return
    user_id = context.who.user_id
    left = gate.locked(user_id, context.now)
    if left:
        await edit(update, LOCKED.format(minutes=max(1, round(left / 60))))
        return
    gate.ask(user_id, action, context.now + context.bot_data.button_ttl)
    await edit(update, ASK)


async def code_reply(update: Update, context: BotContext) -> bool:
    """Answer a private message holding a TOTP code for a waiting action; False when none waits."""
    gate = context.bot_data.totp
    message = update.effective_message
    if gate is None or message is None or context.actor is None or not gate.waiting(context.who.user_id):
        return False
    await send(update, await gate.answer(context.who.user_id, message.text or "", context.now))
    return True
