"""`tradebot secrets`: store exchange keys and the Telegram token encrypted; list, rotate, delete, new key.

Values are read from stdin or a hidden prompt, never from the command line (argv shows in `ps` and
shell history). Every change is written to the audit log with the name only, never the value.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from trader.cli import totp_setup
from trader.config import load_settings
from trader.core.errors import SecretError
from trader.runtime.clock import SystemClock
from trader.runtime.offline import (
    check_secret_name,
    new_secret_key,
    open_store,
    secret_cipher,
    secret_key_count,
    secret_names,
    secret_store,
)
from trader.services.audit import AuditService

ACTOR = "cli"


def register(sub: Any) -> None:
    """Add the `secrets` command group."""
    parser: argparse.ArgumentParser = sub.add_parser("secrets", help="encrypted secrets (API keys, token)")
    inner = parser.add_subparsers(dest="secrets_command", metavar="ACTION", required=True)
    names = ", ".join(secret_names())
    setter = inner.add_parser("set", help="store a secret; the value is read from stdin or a hidden prompt")
    setter.add_argument("name", help=f"one of: {names}")
    setter.set_defaults(func=_set)
    inner.add_parser("list", help="list stored secret names and dates").set_defaults(func=_list)
    rotate = inner.add_parser("rotate", help="re-encrypt every secret with the newest (first) key")
    rotate.set_defaults(func=_rotate)
    delete = inner.add_parser("delete", help="delete a stored secret")
    delete.add_argument("name", help=f"one of: {names}")
    delete.set_defaults(func=_delete)
    keygen = inner.add_parser("generate-key", help="print a new random key for TRADER_OPS__SECRETS_KEY")
    keygen.set_defaults(func=_generate_key)
    totp_setup.register(inner, open_store, ACTOR)


def read_value(name: str) -> str:
    """Return the secret from a hidden prompt (terminal) or stdin (pipe), without the final newline."""
    if sys.stdin.isatty():
        value = getpass.getpass(f"{name} (input hidden): ")
    else:
        value = sys.stdin.read().rstrip("\r\n")
    if not value:
        raise SecretError(f"no value given for {name} (pipe it on stdin or type it at the prompt)")
    return value


async def _set(args: argparse.Namespace) -> int:
    name = check_secret_name(args.name)
    settings = load_settings(args.config)
    cipher = secret_cipher(settings)  # a key problem fails before asking for the value
    value = read_value(name)
    async with open_store(settings) as uow_factory:
        await secret_store(uow_factory, cipher, SystemClock()).set(name, value)
        await AuditService(uow_factory, SystemClock()).record(ACTOR, "secrets.set", name)
    print(f"stored {name} (encrypted)")
    return 0


async def _list(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    async with open_store(settings) as uow_factory:
        infos = await secret_store(uow_factory, None, SystemClock()).stored()
    if not infos:
        print("no secrets stored")
        return 0
    print(f"{'NAME':<28} {'CREATED (UTC)':<20} UPDATED (UTC)")
    for info in infos:
        print(f"{info.name:<28} {info.created_at:%Y-%m-%d %H:%M:%S}  {info.updated_at:%Y-%m-%d %H:%M:%S}")
    return 0


async def _rotate(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    cipher = secret_cipher(settings)
    async with open_store(settings) as uow_factory:
        count = await secret_store(uow_factory, cipher, SystemClock()).rotate()
        await AuditService(uow_factory, SystemClock()).record(ACTOR, "secrets.rotate", f"{count} secret(s)")
    print(f"re-encrypted {count} secret(s) with the newest key")
    if secret_key_count(settings) > 1:
        print("you can now remove the older key(s) from TRADER_OPS__SECRETS_KEY / the key file")
    return 0


async def _delete(args: argparse.Namespace) -> int:
    name = check_secret_name(args.name)
    settings = load_settings(args.config)
    async with open_store(settings) as uow_factory:
        deleted = await secret_store(uow_factory, None, SystemClock()).delete(name)
        result = "ok" if deleted else "not stored"
        await AuditService(uow_factory, SystemClock()).record(ACTOR, "secrets.delete", name, result)
    if not deleted:
        print(f"{name} was not stored", file=sys.stderr)
        return 1
    print(f"deleted {name}")
    return 0


def _generate_key(args: argparse.Namespace) -> int:
    print(new_secret_key())
    return 0
