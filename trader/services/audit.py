"""Audit log service: record who did what and how it ended; query the newest entries with filters.

Commands received, parameter changes (old → new) and order intents/outcomes all land here through the
store's append-only audit repository. Secret-looking parameters are masked before they are stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from trader.ports.clock import Clock
from trader.ports.store import AuditEntry, OpsUnitOfWork, OpsUnitOfWorkFactory

MASK: Final = "********"
_SECRET_WORDS: Final = ("token", "secret", "key", "password", "apprise")
_MAX_DETAIL: Final = 2000
SCAN_LIMIT: Final = 10_000  # the repository filters nothing; filtered queries read this many newest rows


def change_detail(name: str, old: object, new: object) -> str:
    """Return "name: old → new", masking both values when the name looks like a secret."""
    if any(word in name.lower() for word in _SECRET_WORDS):
        return f"{name}: {MASK} → {MASK}"
    return f"{name}: {old} → {new}"


def _matches(entry: AuditEntry, actor: str | None, action: str | None) -> bool:
    if actor is not None and entry.actor.casefold() != actor.casefold():
        return False
    # "order" matches "order", "order.intent", "order.filled"; a full name matches only itself.
    return action is None or entry.action == action or entry.action.startswith(action + ".")


class AuditService:
    """Append and query the audit log over the unit-of-work port."""

    def __init__(self, uow_factory: OpsUnitOfWorkFactory, clock: Clock,
                 redact: Callable[[str], str] | None = None) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._redact = redact or (lambda text: text)

    def entry(self, actor: str, action: str, detail: str = "", result: str = "ok") -> AuditEntry:
        """Return a timestamped entry; known secrets removed, detail trimmed to 2000 characters."""
        if not actor or not action:
            raise ValueError("an audit entry needs an actor and an action")
        return AuditEntry(ts=self._clock.now(), actor=actor, action=action,
                          detail=self._redact(detail)[:_MAX_DETAIL], result=self._redact(result))

    async def record(self, actor: str, action: str, detail: str = "", result: str = "ok") -> int:
        """Append one entry in its own transaction and return its id."""
        async with self._uow_factory() as uow:
            entry_id = await uow.audit.add(self.entry(actor, action, detail, result))
            await uow.commit()
        return entry_id

    async def record_in(self, uow: OpsUnitOfWork, actor: str, action: str, detail: str = "",
                        result: str = "ok") -> int:
        """Append one entry inside the caller's transaction (committed with the change it describes)."""
        return await uow.audit.add(self.entry(actor, action, detail, result))

    async def record_change(self, actor: str, name: str, old: object, new: object) -> int:
        """Record a parameter change as action "param.change" with "name: old → new"."""
        return await self.record(actor, "param.change", change_detail(name, old, new))

    async def recent(self, limit: int = 20, actor: str | None = None,
                     action: str | None = None) -> list[AuditEntry]:
        """Return up to ``limit`` newest entries, newest first, optionally for one actor and action.

        ``action`` also matches dotted sub-actions ("order" finds "order.intent").
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        scan = limit if actor is None and action is None else max(limit, SCAN_LIMIT)
        async with self._uow_factory() as uow:
            entries = await uow.audit.recent(scan)
        return [e for e in entries if _matches(e, actor, action)][:limit]
