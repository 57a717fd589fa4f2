"""Webhook signal intake: authenticate, refuse stale or replayed signals, act through the engine, audit.

A source (``SignalSource`` in the web config) has a shared secret: the sender either signs the raw body
(``X-Signature: sha256=<hex HMAC-SHA256(secret, body)>``) or, where it cannot sign (TradingView
alerts), puts the secret in the body's ``token`` field. Both are compared in constant time. A signal
older than the window (by its ``timestamp``) or seen before (same idempotency ``key``) is refused. An
accepted signal enters the same risk checks and ``step`` as a strategy's (booked under the source's
strategy name); the outcome is stored with the key, so it can be asked for later, and audited.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal, Protocol

from trader.config import SignalSource
from trader.core.domain.candles import datetime_to_ms
from trader.core.errors import DataError, InputError
from trader.core.strategies.base import Signal
from trader.live.trading import ActionResult
from trader.ports.clock import Clock
from trader.ports.store import OpsUnitOfWorkFactory
from trader.ports.web_records import SignalReceipt
from trader.services.audit import AuditService

logger = logging.getLogger(__name__)

Side = Literal["buy", "sell"]


class SignalRefused(InputError):
    """A signal refused before it reached the engine; ``code`` says why (bad_signature, stale, replayed)."""

    def __init__(self, code: str, message: str, previous: SignalReceipt | None = None) -> None:
        super().__init__(message, user_message=message)
        self.code = code
        self.previous = previous


class SignalEngine(Protocol):
    """What the intake needs from the running engine (``TradingService`` has it)."""

    async def act_on_signal(self, symbol: str, signal: Signal, strategy: str) -> ActionResult:
        """Run the signal through risk checks and step."""
        ...


class EngineSource(Protocol):
    """The runtime's engine handle: the trading service in use now."""

    @property
    def trading(self) -> SignalEngine:
        """Return the trading service the scheduler uses now."""
        ...


@dataclass(frozen=True, slots=True)
class ExternalSignal:
    """A parsed webhook body."""

    pair: str
    side: Side
    key: str
    sent_at: datetime
    confidence: float = 1.0
    stop: Decimal | None = None
    take_profit: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SignalOutcome:
    """What became of a signal: ``accepted`` (with the positions touched) or ``refused`` with the reason."""

    source: str
    key: str
    outcome: str
    reason: str
    position_ids: tuple[str, ...]
    received_at: datetime
    pair: str
    side: str


def signature(secret: str, body: bytes) -> str:
    """Return the ``X-Signature`` value for ``body``: ``sha256=<hex>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _outcome(receipt: SignalReceipt) -> SignalOutcome:
    return SignalOutcome(receipt.source, receipt.key, receipt.outcome, receipt.reason, receipt.position_ids,
                         receipt.received_at, receipt.pair, receipt.side)


class SignalIntakeService:
    """Authenticate and act on webhook signals from the configured sources."""

    def __init__(self, sources: Sequence[SignalSource], default_pairs: Sequence[str], engine: EngineSource,
                 uow_factory: OpsUnitOfWorkFactory, clock: Clock, audit: AuditService, *,
                 max_age_seconds: int = 300) -> None:
        self._sources = {s.name: s for s in sources}
        self._default_pairs = tuple(p.upper() for p in default_pairs)
        self._engine = engine
        self._uow = uow_factory
        self._clock = clock
        self._audit = audit
        self._max_age = timedelta(seconds=max_age_seconds)

    def _source(self, name: str) -> SignalSource:
        source = self._sources.get(name)
        if source is None:
            raise DataError(f"unknown signal source {name!r}", user_message=f"No signal source {name}.")
        return source

    async def authenticate(self, name: str, body: bytes, header: str | None, token: str | None) -> None:
        """Check the body's signature or token against the source's secret; SignalRefused when wrong."""
        source = self._source(name)
        secret = source.secret.get_secret_value()
        ok = False
        if header:
            ok = hmac.compare_digest(header.strip().encode(), signature(secret, body).encode())
        elif token:
            ok = hmac.compare_digest(token.encode(), secret.encode())
        if not ok:
            await self._audit.record(f"webhook:{name}", "signal.refused", f"{len(body)} bytes",
                                     "refused: bad signature")
            raise SignalRefused("bad_signature", "the signature or token does not match this source's secret")

    async def submit(self, name: str, signal: ExternalSignal) -> SignalOutcome:
        """Act on an authenticated signal; SignalRefused for a stale or replayed one (nothing traded)."""
        source = self._source(name)
        actor = f"webhook:{name}"
        now = self._clock.now()
        detail = f"{signal.side} {signal.pair} key={signal.key}"
        age = now - signal.sent_at
        if age > self._max_age or age < -self._max_age:
            await self._audit.record(actor, "signal.refused", detail, "refused: stale")
            raise SignalRefused("stale", f"the signal is {int(age.total_seconds())} s old; the window is "
                                         f"{int(self._max_age.total_seconds())} s")
        receipt = SignalReceipt(name, signal.key, now, signal.pair.upper(), signal.side, "received")
        async with self._uow() as uow:
            fresh = await uow.signals.add(receipt)
            previous = None if fresh else await uow.signals.get(name, signal.key)
            await uow.commit()
        if not fresh:
            await self._audit.record(actor, "signal.refused", detail, "refused: replayed")
            raise SignalRefused("replayed", f"signal {signal.key} was received before", previous)
        result = await self._act(source, signal)
        outcome = "accepted" if result.ok else "refused"
        reason = "" if result.ok else (result.refused_reason or result.message)
        done = SignalReceipt(name, signal.key, now, receipt.pair, signal.side, outcome,
                             result.message if not result.ok else "", result.position_ids)
        async with self._uow() as uow:
            await uow.signals.update(done)
            await self._audit.record_in(uow, actor, f"signal.{outcome}", detail,
                                        "ok" if result.ok else f"refused: {reason}")
            await uow.commit()
        logger.info("signal %s from %s: %s %s", signal.key, name, outcome, result.message)
        return _outcome(done)

    async def _act(self, source: SignalSource, signal: ExternalSignal) -> ActionResult:
        pair = signal.pair.upper()
        allowed = tuple(p.upper() for p in source.pairs) if source.pairs else self._default_pairs
        if pair not in allowed:
            return ActionResult(False, f"{pair} is not traded by this source ({', '.join(allowed)})",
                                refused_reason="unknown_pair")
        buy = signal.side == "buy"
        engine_signal = Signal(datetime_to_ms(signal.sent_at), buy, not buy, False, False, signal.confidence,
                               float(signal.stop) if signal.stop is not None else None,
                               float(signal.take_profit) if signal.take_profit is not None else None,
                               f"webhook {source.name}")
        try:
            return await self._engine.trading.act_on_signal(pair, engine_signal, source.strategy)
        except (DataError, InputError) as exc:  # the venue does not know the pair, and the like
            return ActionResult(False, exc.user_message or str(exc), refused_reason="unknown_pair")

    async def outcome(self, name: str, key: str) -> SignalOutcome:
        """Return what became of signal ``key``; DataError when it was never received."""
        self._source(name)
        async with self._uow() as uow:
            receipt = await uow.signals.get(name, key)
        if receipt is None:
            raise DataError(f"no signal {name}/{key}", user_message=f"No signal {key} from {name}.")
        return _outcome(receipt)
