"""Typed PTB context: ``context.services`` and ``context.actor`` instead of untyped dictionaries."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

from handlers.access import AccessList, StrangerGate
from trader.services.api import Services
from trader.services.dto import Actor

if TYPE_CHECKING:
    from handlers.commands import Command
    from handlers.totp import TotpGate


@dataclass
class BotData:
    """Application-wide state the handlers share (PTB ``bot_data``); set up by ``handlers.register``."""

    services: Services | None = None
    access: AccessList = field(default_factory=lambda: AccessList(()))
    gate: StrangerGate = field(default_factory=StrangerGate)
    clock: Callable[[], float] = time.monotonic  # injected so tests can expire buttons
    button_ttl: float = 300.0  # seconds a confirmation button stays valid
    page_ttl: float = 3600.0  # seconds a paging button stays valid
    commands: tuple[Command, ...] = ()
    dashboard_url: str | None = None  # web.public_url: where /dashboard's Mini App button points
    totp: TotpGate | None = None  # set when telegram.admin_totp_secret is: admin actions need a code
    unexpected_errors: int = 0  # errors that reached the generic reply; watched by tests and /health


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """Callback context with typed access to the services and the authorised actor."""

    def __init__(self, application: BotApplication, chat_id: int | None = None,
                 user_id: int | None = None) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self.actor: Actor | None = None  # set by handlers.auth before any command handler runs

    @property
    def services(self) -> Services:
        """Return the services bundle; raises if the application was built without one."""
        services = self.bot_data.services
        if services is None:
            raise RuntimeError("handlers.register() was not given a Services bundle")
        return services

    @property
    def who(self) -> Actor:
        """Return the authorised actor (auth runs first, so this is always set in command handlers)."""
        if self.actor is None:
            raise RuntimeError("handler ran without the access check")
        return self.actor

    @property
    def now(self) -> float:
        """Return the injected monotonic time in seconds."""
        return self.bot_data.clock()

BotApplication = Application[ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], BotData, Any]
