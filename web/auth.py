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
from trader.services.miniapp import MiniAppRefused
from trader.services.web_api import MiniAppCheck, TokenCheck

_bearer = HTTPBearer(auto_error=False, description=(
    "An API token from `tradebot api token create`; the Mini App sends `Authorization: tma <initData>`."))
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _tokens(request: Request) -> TokenCheck:
    tokens: TokenCheck = request.app.state.tokens
    return tokens


def _miniapp(request: Request, init_data: str) -> Actor:
    check: MiniAppCheck = request.app.state.web.miniapp
    try:
        return check.authenticate(init_data)
    except MiniAppRefused as exc:
        raise HTTPException(exc.status, exc.reason, _CHALLENGE if exc.status == 401 else None) from exc


async def _actor(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Actor:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "tma":  # HTTPBearer (kept for the OpenAPI docs) answers None for this scheme
        return _miniapp(request, value.strip())
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "missing bearer token (Authorization: Bearer <token>)", _CHALLENGE)
    principal = await _tokens(request).authenticate(credentials.credentials)
    if principal is None:
        raise HTTPException(401, "unknown or revoked token", _CHALLENGE)
    return Actor(principal.token_id, 0, principal.role, principal.name, channel="api")


def require(role: Role) -> Callable[..., Awaitable[Actor]]:
    """Return a dependency that authenticates the caller (token or Mini App) and demands ``role``."""

    async def dependency(request: Request, credentials: Credentials) -> Actor:
        actor = await _actor(request, credentials)
        if not actor.role.can(role):
            raise HTTPException(403, f"this needs the {role.value} role; you have {actor.role.value}")
        return actor

    return dependency


Viewer = Annotated[Actor, Depends(require(Role.VIEWER))]
Trader = Annotated[Actor, Depends(require(Role.TRADER))]
Admin = Annotated[Actor, Depends(require(Role.ADMIN))]
