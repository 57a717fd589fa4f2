"""Telegram Mini App sign-in: validate ``Telegram.WebApp.initData`` and map its user to a role.

Telegram signs the init data with a key derived from the bot token: ``secret = HMAC_SHA256(key=
"WebAppData", msg=bot_token)``, ``hash = hex(HMAC_SHA256(key=secret, msg=data_check_string))`` where
the data-check string is every other field as ``key=value``, sorted by key, joined by newlines
(https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app). We also refuse
init data older than ``max_age`` (a leaked URL must not work forever) and users not on the allow-list;
the role is the allow-list's, as in private chats with the bot.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

from trader.config import TelegramConfig
from trader.ports.clock import Clock
from trader.services.dto import Actor, Role


class MiniAppRefused(Exception):
    """Init data that signs nobody in: ``status`` 401 (not genuine or too old) or 403 (a stranger)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def init_data_hash(fields: Mapping[str, str], bot_token: str) -> str:
    """Return the hex hash Telegram puts in ``hash`` for ``fields`` (every field except ``hash``)."""
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "hash")
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    return hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()


class MiniAppAuth:
    """Turn init data into an ``Actor`` on channel "miniapp", or refuse it."""

    def __init__(self, config: TelegramConfig, clock: Clock, max_age_seconds: int) -> None:
        self._token = config.token.get_secret_value() if config.token is not None else None
        self._roles = {u.id: Role(u.role) for u in config.allowed_chats}
        self._clock = clock
        self._max_age = timedelta(seconds=max_age_seconds)

    def authenticate(self, init_data: str) -> Actor:
        """Return who the init data signs in; MiniAppRefused otherwise."""
        if self._token is None:
            raise MiniAppRefused(401, "the Mini App needs the bot's token configured")
        fields = dict(parse_qsl(init_data, keep_blank_values=True, strict_parsing=False))
        given = fields.get("hash", "")
        if not given or not hmac.compare_digest(given.encode(), init_data_hash(fields, self._token).encode()):
            raise MiniAppRefused(401, "init data not signed by this bot")
        try:
            signed_at = datetime.fromtimestamp(int(fields["auth_date"]), tz=UTC)
            user = json.loads(fields["user"])
            user_id = int(user["id"])
        except (KeyError, ValueError, TypeError) as exc:
            raise MiniAppRefused(401, "init data without auth_date or user") from exc
        age = self._clock.now() - signed_at
        if age > self._max_age:
            raise MiniAppRefused(401, f"init data is {int(age.total_seconds())} s old; open the app again")
        role = self._roles.get(user_id)
        if role is None:
            raise MiniAppRefused(403, f"user {user_id} is not on the allow-list")
        name = str(user.get("username") or user.get("first_name") or "")
        return Actor(user_id, user_id, role, name, channel="miniapp")
