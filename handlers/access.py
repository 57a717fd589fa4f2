"""Allow-list with roles, and the rate limit that keeps strangers from flooding the bot or the audit log.

Pure: no PTB objects, time is an argument.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from trader.config.sections import TelegramUser
from trader.services.dto import Role

_PRIVATE = "private"


class AccessList:
    """Map allow-listed chat and user ids to roles."""

    def __init__(self, users: Iterable[TelegramUser]) -> None:
        self._roles = {u.id: Role(u.role) for u in users}

    def __bool__(self) -> bool:
        return bool(self._roles)

    def ids(self) -> dict[int, Role]:
        """Return a copy of id -> role."""
        return dict(self._roles)

    def role_for(self, chat_id: int, chat_type: str, user_id: int | None) -> Role | None:
        """Return the role to serve with, or None for a stranger.

        In a group both the chat and the user must be listed, and the lower of the two roles applies,
        so adding the bot to a group never lends an admin's powers to other members.
        """
        chat_role = self._roles.get(chat_id)
        if chat_type == _PRIVATE or user_id is None:
            return chat_role
        user_role = self._roles.get(user_id)
        if chat_role is None or user_role is None:
            return None
        return min(chat_role, user_role, key=lambda r: r.rank)


@dataclass
class StrangerGate:
    """Decide whether a refused stranger gets a reply and an audit entry.

    Each stranger id gets at most one reply per ``per_id_seconds``; across all strangers at most
    ``max_per_window`` replies/audit entries per ``window_seconds``. The rest is dropped silently and
    counted, so the count can be reported in the next entry that is written.
    """

    per_id_seconds: float = 60.0
    max_per_window: int = 20
    window_seconds: float = 60.0
    max_tracked: int = 10_000
    dropped: int = 0
    _last_seen: dict[int, float] = field(default_factory=dict)
    _recent: deque[float] = field(default_factory=deque)

    def admit(self, stranger_id: int, now: float) -> bool:
        """Return True when this stranger should get a reply (and an audit entry) now."""
        last = self._last_seen.get(stranger_id)
        while self._recent and now - self._recent[0] >= self.window_seconds:
            self._recent.popleft()
        recent_for_id = last is not None and now - last < self.per_id_seconds
        if recent_for_id or len(self._recent) >= self.max_per_window:
            self.dropped += 1
            return False
        if len(self._last_seen) >= self.max_tracked:  # bound memory under a flood of new ids
            cutoff = now - self.per_id_seconds
            self._last_seen = {k: v for k, v in self._last_seen.items() if v > cutoff}
        self._last_seen[stranger_id] = now
        self._recent.append(now)
        return True

    def take_dropped(self) -> int:
        """Return and reset the number of silently dropped refusals."""
        count, self.dropped = self.dropped, 0
        return count
