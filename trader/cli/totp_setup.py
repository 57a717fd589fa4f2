"""`tradebot secrets totp-setup`: a new TOTP secret for admin actions, stored encrypted, shown as a QR code.

The secret is random (pyotp, 160 bits), stored as ``telegram.admin_totp_secret`` in the encrypted
secret store (so a secrets key must be configured), and handed to the authenticator app as an
``otpauth://`` provisioning URI, printed and written as a QR code PNG (segno) readable by the owner
only. The running service picks it up at its next start.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import pyotp
import segno

from trader.config import load_settings
from trader.runtime.clock import SystemClock
from trader.runtime.offline import secret_cipher, secret_store
from trader.services.audit import AuditService

NAME = "telegram.admin_totp_secret"
ISSUER = "tradebot"


def register(inner: Any, open_store: Any, actor: str) -> None:
    """Add `totp-setup` to the `secrets` sub-commands."""
    p: argparse.ArgumentParser = inner.add_parser(
        "totp-setup", help="create the admin TOTP secret: print its provisioning URI, write a QR code PNG")
    p.add_argument("--account", default="admin", help="the name shown in the authenticator app")
    p.add_argument("--qr", default="totp-qr.png", metavar="FILE", help="where to write the QR code PNG")
    p.set_defaults(func=_setup, open_store=open_store, actor=actor)


def provisioning_uri(secret: str, account: str) -> str:
    """Return the otpauth:// URI an authenticator app imports."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def write_qr(uri: str, path: Path) -> None:
    """Write ``uri`` as a QR code PNG at ``path``, readable by the owner only (it holds the secret)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        segno.make(uri, error="m").save(out, kind="png", scale=8, border=4)


async def _setup(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    cipher = secret_cipher(settings)  # a key problem fails before anything is made
    secret = pyotp.random_base32(length=32)
    async with args.open_store(settings) as uow_factory:
        await secret_store(uow_factory, cipher, SystemClock()).set(NAME, secret)
        await AuditService(uow_factory, SystemClock()).record(args.actor, "secrets.totp_setup", NAME)
    uri = provisioning_uri(secret, args.account)
    qr = Path(args.qr)
    write_qr(uri, qr)
    print(f"stored {NAME} (encrypted); restart the service to require codes for admin actions")
    print(f"provisioning URI (add it to your authenticator app): {uri}")
    print(f"QR code: {qr} (scan it, then delete the file)")
    return 0
