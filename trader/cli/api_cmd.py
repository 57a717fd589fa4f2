"""`tradebot api token create|list|revoke`: bearer tokens for the web API, stored hashed.

``create`` prints the token once (only its SHA-256 is stored); lose it and create another.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from trader.config import load_settings
from trader.runtime.clock import SystemClock
from trader.runtime.offline import open_store
from trader.services.api_tokens import ApiTokenService
from trader.services.audit import AuditService
from trader.services.dto import Role

ACTOR = "cli"


def register(sub: Any) -> None:
    """Add the `api` command group."""
    parser: argparse.ArgumentParser = sub.add_parser("api", help="web API access (bearer tokens)")
    groups = parser.add_subparsers(dest="api_command", metavar="GROUP", required=True)
    token = groups.add_parser("token", help="create, list or revoke API tokens")
    inner = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = inner.add_parser("create", help="create a token and print it once")
    create.add_argument("name", help="a label for the token, e.g. grafana or my-phone")
    create.add_argument("--role", choices=[r.value for r in Role], default=Role.VIEWER.value,
                        help="viewer reads, trader also pauses/trades, admin everything (default viewer)")
    create.set_defaults(func=_create)
    inner.add_parser("list", help="list tokens (never their value)").set_defaults(func=_list)
    revoke = inner.add_parser("revoke", help="revoke a token by name")
    revoke.add_argument("name")
    revoke.set_defaults(func=_revoke)


def _service(uow_factory: Any) -> ApiTokenService:
    clock = SystemClock()
    return ApiTokenService(uow_factory, clock, AuditService(uow_factory, clock))


async def _create(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    async with open_store(settings) as uow_factory:
        made = await _service(uow_factory).create(args.name, Role(args.role), ACTOR)
    print(f"created API token {made.view.name} (role {made.view.role.value}); it is shown only once:")
    print(made.token)
    return 0


async def _list(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    async with open_store(settings) as uow_factory:
        tokens = await _service(uow_factory).all()
    if not tokens:
        print("no API tokens; create one with `tradebot api token create NAME --role viewer`")
        return 0
    print(f"{'NAME':<24} {'ROLE':<8} {'CREATED (UTC)':<20} STATE")
    for t in tokens:
        state = "active" if t.active else f"revoked {t.revoked_at:%Y-%m-%d %H:%M}"
        print(f"{t.name:<24} {t.role.value:<8} {t.created_at:%Y-%m-%d %H:%M:%S}  {state}")
    return 0


async def _revoke(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    async with open_store(settings) as uow_factory:
        done = await _service(uow_factory).revoke(args.name, ACTOR)
    if not done:
        print(f"no active token called {args.name}", file=sys.stderr)
        return 1
    print(f"revoked {args.name}")
    return 0
