"""Bearer-token authentication and roles for the API (the same viewer/trader/admin roles as Telegram).

A missing or unknown token is 401 (with ``WWW-Authenticate: Bearer``); a known token without the
role the endpoint needs is 403. The caller becomes an ``Actor`` on channel "api" named after its
token, so the audit log says which integration did what.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from trader.services.dto import Actor, Role
from trader.services.web_api import TokenCheck

_bearer = HTTPBearer(auto_error=False, description="An API token from `tradebot api token create`.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _tokens(request: Request) -> TokenCheck:
    tokens: TokenCheck = request.app.state.tokens
    return tokens


def require(role: Role) -> Callable[..., Awaitable[Actor]]:
    """Return a dependency that authenticates the bearer token and demands at least ``role``."""

    async def dependency(request: Request, credentials: Credentials) -> Actor:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(401, "missing bearer token (Authorization: Bearer <token>)", _CHALLENGE)
        principal = await _tokens(request).authenticate(credentials.credentials)
        if principal is None:
            raise HTTPException(401, "unknown or revoked token", _CHALLENGE)
        if not principal.role.can(role):
            raise HTTPException(
                403, f"this needs the {role.value} role; the token has {principal.role.value}")
        return Actor(principal.token_id, 0, principal.role, principal.name, channel="api")

    return dependency


Viewer = Annotated[Actor, Depends(require(Role.VIEWER))]
Trader = Annotated[Actor, Depends(require(Role.TRADER))]
Admin = Annotated[Actor, Depends(require(Role.ADMIN))]
