"""Webhook signal intake: ``POST /signals/{source}`` (authenticated by the source's secret, not a token)
and ``GET /signals/{source}/{key}`` (a viewer asks what became of a signal).

Body: ``{"pair": "BTC/USDT", "side": "buy"|"sell", "key": "<idempotency key>", "timestamp": <ISO 8601
or epoch seconds>, "confidence": 0..1, "stop": <price>, "take_profit": <price>, "price": <price>,
"token": "<secret, when the sender cannot sign>"}``. Signed senders send ``X-Signature:
sha256=<hex HMAC-SHA256(secret, raw body)>``. Answers: 200 with the outcome (accepted, or refused by
a rule with the reason), 401 bad signature, 409 stale or replayed (with the earlier outcome), 413 too
big, 422 a malformed body.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from trader.services.signals import ExternalSignal, SignalOutcome, SignalRefused
from web.auth import Viewer
from web.deps import Web
from web.errors import error_body, error_response

router = APIRouter(prefix="/signals", tags=["signals"])
MAX_BODY = 4096
SourceName = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
_STATUS = {"bad_signature": 401, "stale": 409, "replayed": 409}


class SignalBody(BaseModel):
    """A webhook signal as sent."""

    model_config = ConfigDict(extra="forbid")
    pair: Annotated[str, Field(min_length=3, max_length=32)]
    side: Literal["buy", "sell"]
    key: Annotated[str, Field(min_length=1, max_length=128)]
    timestamp: datetime
    confidence: Annotated[float, Field(ge=0, le=1)] = 1.0
    price: Annotated[Decimal | None, Field(gt=0)] = None  # informative: the engine prices at market
    stop: Annotated[Decimal | None, Field(gt=0)] = None
    take_profit: Annotated[Decimal | None, Field(gt=0)] = None
    token: Annotated[str | None, Field(max_length=256)] = None

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give a timezone, e.g. 2026-01-31T12:00:00Z, or epoch seconds")
        return value.astimezone(UTC)

    def signal(self) -> ExternalSignal:
        """Return the service's value."""
        return ExternalSignal(self.pair.upper(), self.side, self.key, self.timestamp, self.confidence,
                              self.stop, self.take_profit)


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"body.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


def _refusal(exc: SignalRefused) -> JSONResponse:
    body = error_body(_STATUS[exc.code], exc.user_message or str(exc), exc.code)
    if exc.previous is not None:
        body["previous"] = {"outcome": exc.previous.outcome, "reason": exc.previous.reason,
                            "position_ids": list(exc.previous.position_ids)}
    return JSONResponse(body, status_code=_STATUS[exc.code])


@router.post("/{source}", summary="Receive a signal from a configured source (authenticated by its secret)",
             response_model=SignalOutcome, responses={401: {}, 409: {}, 413: {}, 422: {}})
async def receive(source: SourceName, request: Request, web: Web,
                  x_signature: Annotated[str | None, Header(max_length=128)] = None) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return error_response(413, f"the body is over {MAX_BODY} bytes", "too_large")
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    token = data.get("token") if isinstance(data, dict) and isinstance(data.get("token"), str) else None
    try:
        await web.signals.authenticate(source, raw, x_signature, token)
        if not isinstance(data, dict):
            return error_response(422, "the body must be a JSON object")
        try:
            body = SignalBody.model_validate(data)
        except ValidationError as exc:
            return error_response(422, _problems(exc))
        return await web.signals.submit(source, body.signal())
    except SignalRefused as exc:
        return _refusal(exc)


@router.get("/{source}/{key}", summary="What became of a signal")
async def outcome(_: Viewer, web: Web, source: SourceName,
                  key: Annotated[str, Path(max_length=128)]) -> SignalOutcome:
    return await web.signals.outcome(source, key)
