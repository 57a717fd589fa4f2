"""The services the web front end calls beyond ``Services``: tokens, insights and webhook signals.

``WebServices`` is built by the composition root next to ``Services``; the web package receives it and
nothing else from the core (like ``handlers/`` receives ``Services``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from trader.services.api import Services
from trader.services.api_tokens import ApiPrincipal
from trader.services.dto import Actor, JobView
from trader.services.signals import ExternalSignal, SignalOutcome
from trader.services.web_dto import (
    AuditView,
    CandleTable,
    EquityCurveView,
    KpiView,
)


class TokenCheck(Protocol):
    """Who a bearer token acts as (``ApiTokenService`` implements it)."""

    async def authenticate(self, token: str) -> ApiPrincipal | None:
        """Return the principal of an active token, None otherwise."""
        ...


class InsightService(Protocol):
    """Read models for the web API (``insights.StoreInsightService`` implements it)."""

    async def kpis(self, days: int | None = None) -> KpiView:
        """Return trade statistics and equity ratios over the last ``days`` days."""
        ...

    async def equity_curve(self, days: int | None = None, max_points: int = 2000) -> EquityCurveView:
        """Return equity snapshots with drawdown, oldest first."""
        ...

    async def candles(self, pair: str, timeframe: str, limit: int,
                      names: Sequence[str] = ()) -> CandleTable:
        """Return stored candles with indicator columns."""
        ...

    async def audit_log(self, limit: int = 50, actor: str | None = None,
                        action: str | None = None) -> tuple[AuditView, ...]:
        """Return the newest audit entries first."""
        ...

    async def jobs(self) -> tuple[JobView, ...]:
        """Return the scheduled jobs."""
        ...


class MiniAppCheck(Protocol):
    """Who Telegram Mini App init data signs in (``miniapp.MiniAppAuth`` implements it)."""

    def authenticate(self, init_data: str) -> Actor:
        """Return the actor; ``miniapp.MiniAppRefused`` (401 or 403) otherwise."""
        ...


class SignalIntake(Protocol):
    """Webhook signals (``signals.SignalIntakeService`` implements it)."""

    async def authenticate(self, name: str, body: bytes, header: str | None, token: str | None) -> None:
        """Check the signature or token: ``SignalRefused`` when wrong, DataError for no such source."""
        ...

    async def submit(self, name: str, signal: ExternalSignal) -> SignalOutcome:
        """Act on an authenticated signal; ``signals.SignalRefused`` when stale or replayed."""
        ...

    async def outcome(self, name: str, key: str) -> SignalOutcome:
        """Return what became of a received signal; DataError when unknown."""
        ...


@dataclass(frozen=True, slots=True)
class WebServices:
    """Everything the web front end may call."""

    core: Services
    tokens: TokenCheck
    insights: InsightService
    signals: SignalIntake
    miniapp: MiniAppCheck
    public_url: str | None = None  # where the dashboard is reached from outside (the Mini App button)
