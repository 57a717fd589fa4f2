"""API bearer tokens: create (the plaintext is shown once), list, revoke, and authenticate a request.

Tokens are 32 random bytes (URL-safe text, prefixed ``tb_``). Only their SHA-256 is stored: a token
has 256 bits of entropy, so a fast hash is enough (no password stretching needed) and a stolen table
gives nothing to replay. Creation and revocation are audited with the name and role, never the token.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from trader.core.errors import InputError
from trader.ports.clock import Clock
from trader.ports.store import OpsUnitOfWorkFactory
from trader.ports.web_records import ApiTokenRecord
from trader.services.audit import AuditService
from trader.services.dto import Role

PREFIX: Final = "tb_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def token_hash(token: str) -> str:
    """Return the hex SHA-256 of ``token`` (what the store keeps)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TokenView:
    """A stored token without its secret."""

    id: int
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """Return True until revoked."""
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token just created: ``token`` is the only time the plaintext exists outside the caller."""

    view: TokenView
    token: str


@dataclass(frozen=True, slots=True)
class ApiPrincipal:
    """Who an API request acts as: a token's id, name and role."""

    token_id: int
    name: str
    role: Role


def _view(record: ApiTokenRecord) -> TokenView:
    assert record.id is not None
    return TokenView(record.id, record.name, Role(record.role), record.created_at, record.revoked_at)


class ApiTokenService:
    """Create, list, revoke and check API tokens over the store port."""

    def __init__(self, uow_factory: OpsUnitOfWorkFactory, clock: Clock, audit: AuditService) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._audit = audit

    async def create(self, name: str, role: Role, actor: str) -> NewToken:
        """Create a token called ``name``; InputError for a bad or taken name."""
        if not _NAME.match(name):
            raise InputError(f"bad token name {name!r}",
                             user_message="A token name is 1-64 letters, digits, '.', '_' or '-'.")
        token = PREFIX + secrets.token_urlsafe(32)
        now = self._clock.now()
        async with self._uow() as uow:
            if await uow.api_tokens.by_name(name) is not None:
                raise InputError(f"token {name!r} exists", user_message=f"A token called {name} exists.")
            token_id = await uow.api_tokens.add(ApiTokenRecord(name, role.value, token_hash(token), now))
            await self._audit.record_in(uow, actor, "api.token.create", f"{name} role={role.value}")
            await uow.commit()
        return NewToken(TokenView(token_id, name, role, now, None), token)

    async def all(self) -> list[TokenView]:
        """Return every token, oldest first (revoked ones included)."""
        async with self._uow() as uow:
            return [_view(r) for r in await uow.api_tokens.all()]

    async def revoke(self, name: str, actor: str) -> bool:
        """Revoke the active token ``name``; False when there is none."""
        async with self._uow() as uow:
            done = await uow.api_tokens.revoke(name, self._clock.now())
            if done:
                await self._audit.record_in(uow, actor, "api.token.revoke", name)
                await uow.commit()
        return done

    async def authenticate(self, token: str) -> ApiPrincipal | None:
        """Return who ``token`` acts as, or None for an unknown or revoked token."""
        if not token.startswith(PREFIX) or len(token) > 200:
            return None
        async with self._uow() as uow:
            record = await uow.api_tokens.by_hash(token_hash(token))
        if record is None or not record.active or record.id is None:
            return None
        return ApiPrincipal(record.id, record.name, Role(record.role))
