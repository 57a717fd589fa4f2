"""Control API: pause, resume, halt (optionally flattening), close and buy with a preview step.

The same ``ControlService`` calls and roles as the Telegram commands (trader and up), so an action
from here is validated, run through the engine and audited exactly like /pause, /close or /buy; the
audit log names the token (``api:<name>``). A refusal by the rules is a value: 200 with ``ok`` false
and ``refused_reason`` set, and nothing changed. A buy is two calls: ``/control/buy/preview`` sizes,
rounds and prices the entry without changing anything; ``/control/buy`` takes that preview back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field

from trader.services.dto import Actor, BuyPreview, ClosePreview, ControlResult
from web.auth import Trader
from web.deps import Core

router = APIRouter(prefix="/control", tags=["control"])


class HaltRequest(BaseModel):
    """Halt trading; ``flatten`` also closes every position at market."""

    model_config = ConfigDict(extra="forbid")
    flatten: bool = False


class CloseRequest(BaseModel):
    """Close one position by id, or every position when ``target`` is absent or "all"."""

    model_config = ConfigDict(extra="forbid")
    target: Annotated[str | None, Field(max_length=64)] = None

    def position(self) -> str | None:
        """Return the position id, None for all."""
        return None if self.target in (None, "all") else self.target


class BuyRequest(BaseModel):
    """A manual long: ``amount`` in the base currency, or sized by the risk rules when absent."""

    model_config = ConfigDict(extra="forbid")
    pair: Annotated[str, Field(min_length=3, max_length=32)]
    amount: Annotated[Decimal | None, Field(gt=0)] = None


async def _received(core: Core, actor: Actor, what: str) -> None:
    # Like Telegram's "telegram.command received": who asked for what, before the outcome row.
    await core.audit.record(actor.label, "api.command", what, "received")


@router.post("/pause", summary="Stop opening positions; open ones stay protected")
async def pause(actor: Trader, core: Core) -> ControlResult:
    await _received(core, actor, "pause")
    return await core.control.pause(actor)


@router.post("/resume", summary="Allow new positions again")
async def resume(actor: Trader, core: Core) -> ControlResult:
    await _received(core, actor, "resume")
    return await core.control.resume(actor)


@router.post("/halt", summary="Halt trading (persists across restarts), optionally closing everything")
async def halt(actor: Trader, core: Core, request: Annotated[HaltRequest | None, Body()] = None
               ) -> ControlResult:
    flatten = request is not None and request.flatten
    await _received(core, actor, f"halt flatten={flatten}")
    return await core.control.halt(actor, flatten=flatten)


@router.post("/close/preview", summary="What closing would close (changes nothing)")
async def close_preview(_: Trader, core: Core, request: CloseRequest) -> ClosePreview:
    return await core.control.preview_close(request.position())


@router.post("/close", summary="Close one position or all at market")
async def close(actor: Trader, core: Core, request: CloseRequest) -> ControlResult:
    await _received(core, actor, f"close {request.target or 'all'}")
    return await core.control.close(request.position(), actor)


@router.post("/buy/preview", summary="Size, round and price a manual entry (changes nothing)")
async def buy_preview(_: Trader, core: Core, request: BuyRequest) -> BuyPreview:
    return await core.control.preview_buy(request.pair, request.amount)


@router.post("/buy", summary="Open the previewed position through the risk checks")
async def buy(actor: Trader, core: Core, preview: BuyPreview) -> ControlResult:
    await _received(core, actor, f"buy {preview.pair} {preview.amount}")
    return await core.control.buy(preview, actor)
